"""Problem sets as text: the round trip, the generated notebook, its refusal when edited."""

from __future__ import annotations

import difflib
import json
import os

import jupytext
import pytest

from diffcourse_staff.course import REPO_ROOT, load_course
from diffcourse_staff.release import ReleaseError, authoring
from diffcourse_staff.release.lint import lint_notebook
from tests.release.conftest import replace_in_cell

COURSE = load_course(REPO_ROOT / "course.yml")
SETS = [a.id for a in COURSE.notebook_assignments]


def _cells(nb) -> list[tuple[str, str]]:
    return [(c["cell_type"], authoring._text(c)) for c in nb["cells"]]


@pytest.mark.parametrize("aid", SETS)
def test_every_set_is_authored_as_percent_text_that_round_trips(aid):
    a = COURSE.assignment(aid)
    source = authoring.source_path(COURSE, a)
    assert source.name == f"{aid}.py" and source.parent.name == aid
    text = source.read_text(encoding="utf-8")
    assert text.startswith("# %% [raw]\n# # ASSIGNMENT CONFIG\n")  # no jupytext header
    nb = authoring.notebook_from_text(text, source.name)
    # notebook -> text -> notebook gives the same cells (what a conversion relies on) ...
    again = authoring.notebook_from_text(authoring.text_from_notebook(nb))
    assert _cells(again) == _cells(nb)
    # ... and JupyterLab (jupytext) saving the unchanged text writes it back byte for byte.
    assert (
        jupytext.writes(jupytext.reads(text, fmt=authoring.TEXT_FORMAT), authoring.TEXT_FORMAT)
        == text
    )
    # Otter's markers survive as raw cells, markdown as markdown.
    raw = [s for kind, s in _cells(nb) if kind == "raw"]
    assert any(s.startswith("# BEGIN QUESTION") for s in raw)
    assert any(s.startswith("# BEGIN TESTS") for s in raw)
    assert nb.metadata["kernelspec"]["name"] == "python3" and nb.nbformat_minor == 4


def test_generated_notebook_is_current_and_not_rewritten(fixture_course):
    source = fixture_course.sources["fx1"]
    nb_path = fixture_course.notebooks["fx1"]
    assert nb_path == source.with_suffix(".ipynb")
    stamp = json.loads(nb_path.read_text())["metadata"][authoring.STAMP_KEY]
    assert stamp["source"] == "fx1.py" and len(stamp["source_sha256"]) == 64
    os.utime(nb_path, ns=(1, 1))
    assert authoring.ensure_notebook(source) == nb_path
    assert nb_path.stat().st_mtime_ns == 1  # current: left alone


def test_stale_notebook_is_regenerated(fixture_course):
    source, nb_path = fixture_course.sources["fx1"], fixture_course.notebooks["fx1"]
    source.write_text(source.read_text().replace("A tiny assignment", "A small assignment"))
    course = fixture_course.course
    assert authoring.notebook_path(course, course.assignment("fx1")) == nb_path
    assert "A small assignment" in nb_path.read_text()


def test_hand_edited_notebook_is_refused_by_the_build(fixture_course):
    nb_path = fixture_course.notebooks["fx1"]
    nb = json.loads(nb_path.read_text())
    replace_in_cell(nb, "def scale", "return", "return 2 *")
    nb_path.write_text(json.dumps(nb, indent=1))
    with pytest.raises(ReleaseError) as info:
        fixture_course.build_one("fx1", gates=False)
    msg = str(info.value)
    assert "fx1.ipynb was edited by hand" in msg and "Move the edit into" in msg
    assert "fx1.py" in msg and "cell " in msg and "return 2 *" in msg
    assert not (fixture_course.dist / "fx1").exists()
    # Still refused once the text changes too: the edit would be lost either way.
    source = fixture_course.sources["fx1"]
    source.write_text(source.read_text().replace("A tiny assignment", "A small assignment"))
    with pytest.raises(ReleaseError, match="edited by hand"):
        authoring.ensure_notebook(source)
    # Deleting it discards the edit, as the message says.
    nb_path.unlink()
    assert "return 2 *" not in authoring.ensure_notebook(source).read_text()


def test_outputs_saved_into_the_generated_notebook_are_dropped(fixture_course):
    """Jupytext pairing saves outputs into the .ipynb: same cells, so no refusal."""
    source, nb_path = fixture_course.sources["fx1"], fixture_course.notebooks["fx1"]
    nb = json.loads(nb_path.read_text())
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    nb["metadata"].pop(authoring.STAMP_KEY)
    nb_path.write_text(json.dumps(nb, indent=1))
    again = json.loads(authoring.ensure_notebook(source).read_text())
    assert all(not c.get("outputs") for c in again["cells"] if c["cell_type"] == "code")
    assert authoring.STAMP_KEY in again["metadata"]


def test_one_line_change_is_a_one_line_diff_and_still_lints(fixture_course):
    """An edit in JupyterLab (jupytext) or an editor changes one line of the text."""
    source = fixture_course.sources["fx1"]
    before = source.read_text()
    nb = jupytext.reads(before, fmt=authoring.TEXT_FORMAT)  # as JupyterLab holds it
    cell = next(c for c in nb.cells if "def scale" in c.source)
    old, new = "    scaled_values = np.asarray(x, dtype=float) * a", "    scaled_values = a * x"
    assert cell.source.count(old) == 1
    cell.source = cell.source.replace(old, new)
    after = jupytext.writes(nb, fmt=authoring.TEXT_FORMAT)
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == [f"-{old}", f"+{new}"]
    source.write_text(after)
    course = fixture_course.course
    src, _ = lint_notebook(
        authoring.notebook_path(course, course.assignment("fx1")), course.assignment("fx1")
    )
    assert [q.name for q in src.questions] == ["q1", "q2", "q3"]


def test_the_stamp_is_not_shipped(good_build):
    fc, _ = good_build
    for rel in ("student/fx1.ipynb", "solutions/fx1.ipynb"):
        nb = json.loads((fc.dist / "fx1" / rel).read_text())
        assert authoring.STAMP_KEY not in nb["metadata"] and "jupytext" not in nb["metadata"]
