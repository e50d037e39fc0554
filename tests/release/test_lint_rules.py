"""Each lint rule on its own: a notebook that breaks only that rule is flagged by it alone.

The good fixture (fixtures/good/fx1) passes every rule; each case below breaks it in
one way, and exactly the rule for that convention must object. The reference
notebooks of the course pass every rule. Quick: the lint only reads notebooks.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from diffcourse_staff.course import Assignment, load_course
from diffcourse_staff.release import ReleaseError
from diffcourse_staff.release.authoring import ensure_notebook, notebook_path
from diffcourse_staff.release.lint import lint_notebook, run_rules
from diffcourse_staff.release.lint_rules import RULES, WARNINGS, LintContext
from diffcourse_staff.release.notebook import cell_source, read_source_notebook
from tests.release.conftest import GOOD

FX1 = Assignment(
    id="fx1",
    title="Fixture fx1",
    kind="problem_set",
    release=dt.datetime(2027, 1, 10, 17),
    due=dt.datetime(2027, 1, 20, 23, 59),
    points=10,
    notebook="fx1/fx1.ipynb",
)


def _replace(cell: int, old: str, new: str):
    def edit(nb, folder):
        source = cell_source(nb["cells"][cell])
        assert old in source, f"{old!r} not in cell {cell}"
        nb["cells"][cell]["source"] = source.replace(old, new, 1)

    return edit


def _edit_source(cell: int, change):
    def edit(nb, folder):
        nb["cells"][cell]["source"] = change(cell_source(nb["cells"][cell]))

    return edit


def _append(cell: int, text: str):
    return _edit_source(cell, lambda source: source + text)


def _delete(start: int, stop: int):
    def edit(nb, folder):
        del nb["cells"][start:stop]

    return edit


def _saved_output(cell: int):
    def edit(nb, folder):
        nb["cells"][cell]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x\n"}]

    return edit


# Cells of the fixture: 0 config, 3 Otter init, 4-13 q1 (10 public and 11 hidden test),
# 14-23 q2 (20 public test), 24-29 q3 (written; 27 its solution and rubric).
BREAKS = {
    "kernelspec": lambda nb, folder: nb["metadata"].pop("kernelspec"),
    "markers": _replace(7, "    # END SOLUTION", ""),
    "config-cell": _delete(0, 1),
    "config-keys": _append(0, "fiels:\n  - data.txt\n"),
    "pipeline-keys": _append(0, "requirements: requirements.txt\n"),
    "python-version-quoted": _append(0, "python_version: 3.10\n"),
    "config-name": _replace(0, "name: fx1", "name: fx2"),
    "support-files": lambda nb, folder: (folder / "data.txt").unlink(),
    "otter-init": _replace(3, 'otter.Notebook("fx1.ipynb")', 'otter.Notebook("fx0.ipynb")'),
    "question-names": _replace(14, "name: q2", "name: second"),
    "question-keys": _append(14, "\npionts: 3"),
    "question-points": _replace(14, "points: 4", "points: -4"),
    "written-questions": _replace(27, "Rubric", "Marks"),
    "tests-public-and-hidden": _delete(20, 21),
    "hidden-marker": _replace(11, "# HIDDEN", "# Hidden"),
    "test-config-keys": _edit_source(
        10, lambda s: '"""  # BEGIN TEST CONFIG\nwieght: 1\n"""  # END TEST CONFIG\n' + s
    ),
    "test-syntax": _append(10, "\nassert ("),
    "test-message-quotes": _replace(
        10, '"the output must keep the shape of x"', "'the output must keep the \"shape\" of x'"
    ),
    "test-outputs": _saved_output(10),
    "points-total": _replace(14, "points: 4", "points: 5"),
    "has-questions": _delete(4, 30),
}


@pytest.fixture
def fixture_notebook(tmp_path):
    folder = tmp_path / "fx1"
    shutil.copytree(GOOD, folder)
    return ensure_notebook(folder / "fx1.py", "fx1")  # the notebook the lint reads


def _flagged(path) -> set[str]:
    ctx = LintContext(path, read_source_notebook(path), FX1, ["diffcourse"])
    return {name for name, rule in RULES if list(rule(ctx))}


def test_the_good_fixture_passes_every_rule(fixture_notebook):
    assert _flagged(fixture_notebook) == set()


@pytest.mark.parametrize("rule", [name for name, _ in RULES])
def test_breaking_one_convention_is_flagged_by_its_rule_alone(fixture_notebook, rule):
    nb = json.loads(fixture_notebook.read_text())
    BREAKS[rule](nb, fixture_notebook.parent)
    fixture_notebook.write_text(json.dumps(nb, indent=1))
    assert _flagged(fixture_notebook) == {rule}
    with pytest.raises(ReleaseError) as err:
        lint_notebook(fixture_notebook, FX1, ["diffcourse"])
    assert f"[{rule}]" in str(err.value) and "fx1.ipynb" in str(err.value)


def test_saved_output_outside_tests_is_a_warning(fixture_notebook):
    nb = json.loads(fixture_notebook.read_text())
    _saved_output(2)(nb, fixture_notebook.parent)
    fixture_notebook.write_text(json.dumps(nb, indent=1))
    _, warnings = lint_notebook(fixture_notebook, FX1)
    assert warnings == [
        f"{fixture_notebook} cell 2: saved output (stripped by the release; clear outputs"
        " before committing) [saved-outputs]"
    ]
    assert [name for name, _ in WARNINGS] == ["saved-outputs"]


def test_rule_names_are_unique():
    names = [name for name, _ in RULES + WARNINGS]
    assert len(names) == len(set(names))


def test_the_reference_notebooks_pass_every_rule():
    course = load_course()
    assert len(course.notebook_assignments) >= 3
    for a in course.notebook_assignments:
        path = notebook_path(course, a)
        ctx = LintContext(path, read_source_notebook(path), a, ["diffcourse"])
        assert run_rules(ctx) == [], a.id
