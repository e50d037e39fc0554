"""The problem sets follow one set of conventions (assignments/README.md).

A points table at the top that matches the questions, one question naming
scheme, no set-up cell or Submitting section of their own (the release writes
both, once), and, in the built student notebooks, every function to write
raising NotImplementedError that names its question.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest
from student_paths import COURSE, built

from diffcourse_staff.release.build import notebook_path
from diffcourse_staff.release.notebook import read_source_notebook
from diffcourse_staff.release.student_cells import SETUP_MARKER, SUBMIT_MARKER

SETS = [a.id for a in COURSE.notebook_assignments]
ROW = re.compile(r"^\|\s*\d+\s*\|[^|]*\|([^|]*)\|\s*(\d+)\s*\|\s*$")
TOTAL = re.compile(r"^\|[^|]*\|[^|]*\|\s*\*\*Total\*\*\s*\|\s*\*\*(\d+)\*\*\s*\|\s*$")
LISTED = re.compile(r"\bQ(\d+[a-z]?)\b( \(written\))?")


def _source(aid):
    return read_source_notebook(notebook_path(COURSE, COURSE.assignment(aid)))


@pytest.mark.parametrize("aid", SETS)
def test_the_points_table_matches_the_questions(aid):
    src = _source(aid)
    points = {q.name: (q.points, q.manual) for q in src.questions}
    intro = next(c for c in src.nb["cells"] if c["cell_type"] == "markdown")
    text = "".join(intro["source"])
    rows = [ROW.match(line) for line in text.splitlines()]
    rows = [m for m in rows if m]
    total = [TOTAL.match(line) for line in text.splitlines()]
    total = [m for m in total if m]
    assert rows and len(total) == 1, f"{aid}: no points table in the introduction"
    listed = []
    for row in rows:
        names = LISTED.findall(row.group(1))
        listed += [f"q{n}" for n, _ in names]
        for n, written in names:
            assert f"q{n}" in points, f"{aid}: the table lists Q{n}, which is no question"
            assert bool(written) == points[f"q{n}"][1], f"{aid}: Q{n} written or not?"
        row_points = sum(points[f"q{n}"][0] for n, _ in names)
        assert row_points == int(row.group(2)), f"{aid}: {row.group(0)} adds up to {row_points}"
    assert sorted(listed) == sorted(points), f"{aid}: the table lists {listed}"
    assert int(total[0].group(1)) == COURSE.assignment(aid).points


@pytest.mark.parametrize("aid", SETS)
def test_one_question_naming_scheme_and_no_cells_of_their_own(aid):
    src = _source(aid)
    for cell in src.nb["cells"]:
        text = "".join(cell["source"])
        assert not re.search(r"Question q\d", text), f"{aid}: write 'Question 4d', not 'q4d'"
        if cell["cell_type"] == "code":
            assert "google.colab" not in text, f"{aid}: a set-up cell of its own"
        if cell["cell_type"] == "markdown":
            assert not re.match(r"\s*(---\s*)?##+ Submi", text), f"{aid}: a Submitting section"


@pytest.mark.parametrize("aid", SETS)
def test_built_notebook_has_one_set_up_cell_one_submitting_section_and_loud_stubs(aid):
    nb = nbformat.read(built(aid).student_notebook, as_version=4)
    sources = [c.source for c in nb.cells]
    assert sum(SETUP_MARKER in s for s in sources) == 1
    assert sum(SUBMIT_MARKER in s for s in sources) == 1
    assert sum(bool(re.search(r"^## Submitting", s, re.M)) for s in sources) == 1
    init = next(i for i, s in enumerate(sources) if "otter.Notebook(" in s)
    assert SETUP_MARKER in sources[init - 1], "the set-up cell must come before Otter's init"

    stubs = 0
    questions = {q.name for q in _source(aid).questions}
    for cell in nb.cells:
        if cell.cell_type != "code" or "otter_answer_cell" not in cell.metadata.get("tags", []):
            continue
        tree = ast.parse(cell.source)
        for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            body = [n for n in fn.body if not isinstance(n, ast.Expr) or n is not fn.body[0]]
            bare = [n for n in ast.walk(fn) if isinstance(n, ast.Constant) and n.value is ...]
            assert not bare, f"{aid}: {fn.name} still has a bare `...`"
            raises = [n for n in body if isinstance(n, ast.Raise)]
            assert raises, f"{aid}: {fn.name} does not raise NotImplementedError"
            message = raises[0].exc.args[0].value
            assert raises[0].exc.func.id == "NotImplementedError"
            assert message.split(":")[0] in questions and fn.name in message, message
            stubs += 1
    assert stubs > 0
