"""Fixture courses for the release tests.

The good fixture (fixtures/good/fx1) is a tiny numpy assignment with two
autograded questions (public and hidden tests, one reading a support file) and
one written question. Broken variants are made by editing a copy of it in a
temporary course, so each test shows exactly which authoring mistake it makes.
Building a fixture with gates takes several seconds (otter assign plus two
gradings), so the good build is shared by the whole session.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from diffcourse_staff.course import load_course
from diffcourse_staff.release import BuildOptions, authoring, build_assignment

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
GOOD = FIXTURES / "good" / "fx1"
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "autograder"))  # the grading runner's package, for unit tests

CELL_TIMEOUT = 3  # seconds: short, so that the infinite-loop test is quick
CALL_TIMEOUT = 10  # generous: a busy shared machine is slow to start a call


def write_course(root: Path, assignments: dict[str, dict]) -> Path:
    """A course.yml in root with the given assignments (id -> overrides)."""
    lines = []
    for aid, over in assignments.items():
        entry = {
            "title": f"Fixture {aid}",
            "kind": "problem_set",
            "notebook": f"{aid}/{aid}.py",
            "release": "2027-01-10T17:00",
            "due": "2027-01-20T23:59",
            "points": 10,
            "cell_timeout": CELL_TIMEOUT,
            "call_timeout": CALL_TIMEOUT,
            "question_timeout": 2 * CALL_TIMEOUT,
        } | over
        lines.append(f"  - id: {aid}")
        lines += [f"    {k}: {v}" for k, v in entry.items()]
    text = (FIXTURES / "course.yml.in").read_text()
    text = text.replace("ASSIGNMENTS", "\n".join(lines)).replace("IDS", ", ".join(assignments))
    path = root / "course.yml"
    path.write_text(text)
    return path


def copy_fixture(root: Path, aid: str = "fx1") -> Path:
    """Copy the good fixture into root/<aid>/ (renamed to aid); return its source text."""
    dest = root / aid
    shutil.copytree(GOOD, dest)
    source = dest / "fx1.py"
    if aid != "fx1":
        text = source.read_text().replace("fx1", aid)
        source.unlink()
        source = dest / f"{aid}.py"
        source.write_text(text)
    return source


def edit_notebook(path: Path, edit) -> None:
    """Apply edit(nb_dict) to a notebook file, or to the notebook of a source text, in place."""
    if path.suffix == ".py":
        nb = json.loads(json.dumps(authoring.notebook_from_text(path.read_text())))
        edit(nb)
        path.write_text(authoring.text_from_notebook(nb))
        return
    nb = json.loads(path.read_text())
    edit(nb)
    path.write_text(json.dumps(nb, indent=1))


def cell_index(nb: dict, contains: str, cell_type: str | None = None) -> int:
    for i, c in enumerate(nb["cells"]):
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        if contains in src and (cell_type is None or c["cell_type"] == cell_type):
            return i
    raise AssertionError(f"no cell contains {contains!r}")


def replace_in_cell(nb: dict, contains: str, old: str, new: str) -> None:
    i = cell_index(nb, contains)
    src = nb["cells"][i]["source"]
    src = "".join(src) if isinstance(src, list) else src
    assert old in src, f"{old!r} not in cell {i}"
    nb["cells"][i]["source"] = src.replace(old, new)


def new_cell(cell_type: str, source: str) -> dict:
    cell = {"cell_type": cell_type, "metadata": {}, "source": source}
    if cell_type == "code":
        cell |= {"outputs": [], "execution_count": None}
    return cell


class FixtureCourse:
    """A temporary course with its own dist/ and build/ folders."""

    def __init__(self, root: Path, ids=("fx1",), overrides: dict | None = None):
        self.root = root
        # The source texts (edit these for a build) and the notebooks generated from them
        # (what the lint reads; edit these to lint a notebook directly).
        self.sources = {aid: copy_fixture(root, aid) for aid in ids}
        self.notebooks = {aid: authoring.ensure_notebook(p, aid) for aid, p in self.sources.items()}
        self.overrides = overrides or {}
        self.dist, self.build = root / "dist", root / "build"
        self.logs: list[str] = []

    @property
    def course(self):
        write_course(self.root, {aid: self.overrides.get(aid, {}) for aid in self.sources})
        return load_course(self.root / "course.yml")

    def options(self, **kw) -> BuildOptions:
        return BuildOptions(dist=self.dist, build=self.build, log=self.logs.append, **kw)

    def build_one(self, aid: str = "fx1", **kw):
        course = self.course
        return build_assignment(course, course.assignment(aid), self.options(**kw))


@pytest.fixture
def fixture_course(tmp_path):
    return FixtureCourse(tmp_path)


@pytest.fixture(scope="session")
def good_build(tmp_path_factory):
    """The good fixture built with every gate, once per session."""
    fc = FixtureCourse(tmp_path_factory.mktemp("good"))
    result = fc.build_one("fx1", solutions=True)
    return fc, result
