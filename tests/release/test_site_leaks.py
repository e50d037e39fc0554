"""The site's leak scan across assignments: a handout may reuse an earlier problem set's
answers once that set is due, never one still open; single generic lines are no proof."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import pytest

from diffcourse_staff.course import load_course
from diffcourse_staff.release.build import notebook_path
from diffcourse_staff.release.leaks import check_site, needles
from diffcourse_staff.release.notebook import read_source_notebook


@pytest.fixture(scope="module")
def course():
    return load_course()


def _solution_lines(course, aid: str, count: int) -> list[str]:
    """`count` distinct secret solution lines of one question of assignment `aid`."""
    src = read_source_notebook(notebook_path(course, course.assignment(aid)))
    by_question: dict[str, list[str]] = {}
    for n in needles(src):
        if n.kind == "solution line":
            by_question.setdefault(n.question, []).append(n.text)
    lines = max(by_question.values(), key=len)
    assert len(lines) >= count
    return lines[:count]


def _site(tmp_path, page: str = "", zips: dict[str, str] | None = None):
    site = tmp_path / "site"
    (site / "downloads").mkdir(parents=True)
    (site / "index.html").write_text(f"<html><body><pre>{page}</pre></body></html>")
    for aid, text in (zips or {}).items():
        with zipfile.ZipFile(site / "downloads" / f"{aid}-student.zip", "w") as z:
            z.writestr(f"{aid}/{aid}_support.py", text)
    return site


def _before_term(course):
    return dt.datetime.combine(course.start, dt.time(0, 0))


def test_a_page_with_one_open_solution_line_leaks(tmp_path, course):
    line = _solution_lines(course, "ps2", 1)[0]
    problems = check_site(course, _site(tmp_path, page=line), now=_before_term(course))
    assert any(p.startswith("ps2 ") and "index.html" in p for p in problems), problems


def test_an_earlier_handout_with_a_later_sets_answer_leaks(tmp_path, course):
    lines = _solution_lines(course, "ps2", 2)
    problems = check_site(
        course, _site(tmp_path, zips={"ps1": "\n".join(lines)}), now=_before_term(course)
    )
    assert any("ps1-student.zip" in p and p.startswith("ps2 ") for p in problems), problems


def test_one_generic_line_in_another_handout_is_not_proof(tmp_path, course):
    line = _solution_lines(course, "ps2", 1)[0]
    problems = check_site(course, _site(tmp_path, zips={"ps1": line}), now=_before_term(course))
    assert problems == []


def test_a_later_handout_may_reuse_answers_of_a_set_already_due(tmp_path, course):
    ps2, ps3 = course.assignment("ps2"), course.assignment("ps3")
    assert ps2.due <= ps3.release, "the course file changed: pick another pair"
    lines = _solution_lines(course, "ps2", 3)
    problems = check_site(
        course, _site(tmp_path, zips={"ps3": "\n".join(lines)}), now=_before_term(course)
    )
    assert problems == []
    # Once every set is due, the whole site may show solutions.
    after = dt.datetime.combine(course.end, dt.time(23, 59))
    assert check_site(course, _site(tmp_path / "b", page="\n".join(lines)), now=after) == []


def test_the_published_notebook_counts_as_its_sets_handout(tmp_path, course):
    """downloads/<id>.ipynb follows the rules of <id>-student.zip."""
    site = _site(tmp_path)
    line = _solution_lines(course, "ps2", 1)[0]
    notebook = {"cells": [{"cell_type": "code", "source": line, "outputs": []}]}
    (site / "downloads" / "ps1.ipynb").write_text(json.dumps(notebook))
    assert check_site(course, site, now=_before_term(course)) == []
    lines = _solution_lines(course, "ps2", 2)
    (site / "downloads" / "ps1.ipynb").write_text("\n".join(lines))
    problems = check_site(course, site, now=_before_term(course))
    assert any("ps1.ipynb" in p and p.startswith("ps2 ") for p in problems), problems
