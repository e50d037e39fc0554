"""Helpers of the student-path tests: the real course's built handouts, answered or blank."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat

from diffcourse_staff.course import DEFAULT_COURSE_FILE, load_course
from diffcourse_staff.release import BuildOptions, build_assignment
from diffcourse_staff.release.layout import Layout, SetPaths

COURSE = load_course(DEFAULT_COURSE_FILE)


def paths(aid: str) -> SetPaths:
    """Where the release (the real dist/ and build/) puts a set's outputs."""
    return Layout().set(COURSE.assignment(aid))


def built(aid: str) -> SetPaths:
    """dist/<aid>'s paths, built without the gates if its inputs changed (the stamps decide)."""
    build_assignment(COURSE, COURSE.assignment(aid), BuildOptions(gates=False, log=print))
    return paths(aid)


def unzip_student(aid: str, dest: Path) -> Path:
    """Unpack the published student zip into dest; returns the folder it makes (dest/<aid>)."""
    paths = built(aid)
    with zipfile.ZipFile(paths.student_zip) as zf:
        zf.extractall(dest)
    return dest / paths.student_zip_prefix


def _code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def answered(aid: str, student_nb: Path) -> None:
    """Fill every answer cell of the student notebook with the reference answer, in place.

    Otter's autograder notebook is the same notebook with the solutions kept, so its
    code cells pair one to one with the student's.
    """
    nb = nbformat.read(student_nb, as_version=4)
    ref = nbformat.read(paths(aid).otter_autograder_notebook, as_version=4)
    mine, theirs = _code_cells(nb), _code_cells(ref)
    assert len(mine) == len(theirs), f"{aid}: the two notebooks no longer pair up"
    for cell, ref_cell in zip(mine, theirs, strict=True):
        if "otter_answer_cell" in cell.metadata.get("tags", []):
            first = cell.source.split("\n", 1)[0]
            if first.strip() != "...":  # a cell that is all solution pairs by position only
                assert ref_cell.source.startswith(first), f"{aid}: {first!r} pairs elsewhere"
            cell.source = ref_cell.source
    nbformat.write(nb, student_nb)


def results(out_dir: Path) -> dict[str, dict]:
    """results.json (Gradescope's format) as test name -> its entry."""
    data = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    return {t["name"]: t for t in data["tests"]}
