"""Paper assignment from ranked preferences: optimal, deterministic, clear errors."""

from __future__ import annotations

import itertools
import random

import pytest

from diffcourse_staff.course import REPO_ROOT, load_course
from diffcourse_staff.projects.data import load_papers
from diffcourse_staff.projects.papers import (
    PreferenceError,
    assign,
    assign_from_csv,
    read_preferences,
    schedule,
)


@pytest.fixture(scope="module")
def course():
    return load_course()


def _cost(result, prefs, n_unranked):
    return sum(
        (prefs[a.student].index(a.paper) ** 2 if a.paper in prefs[a.student] else n_unranked)
        for a in result
    )


def test_assignment_is_optimal_against_brute_force():
    rng = random.Random(3)
    papers = [f"p{i}" for i in range(6)]
    for _ in range(20):
        students = [f"s{i}" for i in range(5)]
        prefs = {s: rng.sample(papers, 3) for s in students}
        result = assign(prefs, papers)
        assert len({a.paper for a in result}) == len(result)  # no paper twice
        unranked = (3 + 1) ** 2
        best = min(
            sum(
                prefs[s].index(p) ** 2 if p in prefs[s] else unranked
                for s, p in zip(students, perm, strict=True)
            )
            for perm in itertools.permutations(papers, len(students))
        )
        assert _cost(result, prefs, unranked) == best


def test_small_cases_get_the_obvious_optimum():
    prefs = {"ann": ["x", "y", "z"], "bob": ["y", "w", "x"]}
    even = {a.student: a.rank for a in assign(prefs, ["x", "y", "w", "z"])}
    assert even == {"ann": 1, "bob": 1}  # both first: the optimum avoids any trade-off
    prefs = {"ann": ["x", "y"], "bob": ["x", "y"], "cat": ["y", "x"]}
    ranks = sorted(a.rank or 9 for a in assign(prefs, ["x", "y", "z"]))
    assert ranks[-1] == 9 and ranks[:2] == [1, 1]  # someone must get the unranked z


def test_assignment_is_deterministic_and_order_free():
    papers = [f"p{i}" for i in range(8)]
    prefs = {f"s{i}": ["p0", "p1", "p2"] for i in range(6)}  # everyone wants the same
    first = assign(prefs, papers, seed=1)
    again = assign(dict(reversed(list(prefs.items()))), papers, seed=1)
    assert first == again
    assert sorted(a.rank for a in first if a.rank) == [1, 2, 3]


def test_a_paper_twice_only_when_allowed():
    prefs = {"a": ["x"], "b": ["x"]}
    once = assign(prefs, ["x", "y"])
    assert sorted(a.paper for a in once) == ["x", "y"]
    twice = assign(prefs, ["x", "y"], max_per_paper=2)
    assert [a.paper for a in twice] == ["x", "x"]
    with pytest.raises(ValueError, match="3 students but 1 papers x 2 = 2 places"):
        assign({"a": ["x"], "b": ["x"], "c": ["x"]}, ["x"], max_per_paper=2)


@pytest.mark.parametrize(
    "csv_text, message",
    [
        ("student,c1\nann,ddpm,nope\n", "line 2, column 3: unknown paper 'nope'"),
        ("student,c1\nann,ddpm\nann,edm\n", "line 3: student 'ann' appears twice"),
        ("student,c1\nann,ddpm,ddpm\n", "line 2: student 'ann' ranks a paper twice"),
        ("student,c1\nann\n", "line 2: student 'ann' ranks no paper"),
        ("name,c1\nann,ddpm\n", "line 1: the header"),
    ],
)
def test_bad_preferences_are_refused_naming_line_and_column(tmp_path, course, csv_text, message):
    path = tmp_path / "prefs.csv"
    path.write_text(csv_text)
    ids = {p.id for p in load_papers(course).papers}
    with pytest.raises(PreferenceError, match=message):
        read_preferences(path, ids)


def test_csv_to_assignment_and_schedule(tmp_path, course):
    papers = load_papers(course)
    ids = [p.id for p in papers.papers]
    lines = ["student,choice1,choice2,choice3"]
    for n in range(10):
        lines.append(f"student{n:02d}," + ",".join(ids[(n + k) % len(ids)] for k in range(3)))
    prefs = tmp_path / "prefs.csv"
    prefs.write_text("\n".join(lines) + "\n")
    summary = assign_from_csv(course, prefs, tmp_path / "out")
    assert summary.startswith("10 students: 10 got their first choice")
    rows = (tmp_path / "out" / "assignment.csv").read_text().splitlines()
    assert rows[0] == "student,paper,rank" and len(rows) == 11
    talks = schedule(assign(read_preferences(prefs, set(ids)), ids), papers)
    per_day = papers.presentations.per_day
    days = [d for d, _, _ in talks]
    assert days.count(papers.presentations.days[0].isoformat()) == per_day
    text = (tmp_path / "out" / "schedule.md").read_text()
    assert text.count("| student") == 10 and "## 2027-04-29" in text


def test_outputs_are_refused_inside_the_repository(tmp_path, course):
    prefs = tmp_path / "prefs.csv"
    prefs.write_text("student,c1\nann,ddpm\n")
    with pytest.raises(ValueError, match="student data never enters git"):
        assign_from_csv(course, prefs, REPO_ROOT / "paper-assignment")
