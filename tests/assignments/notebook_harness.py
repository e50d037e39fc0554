"""Run a problem set's own test cells against chosen answers, the way Otter runs them.

The notebook generated from the set's source text (assignments/<ps>/<ps>.py, Otter's
assign format as jupytext percent text; release/authoring.py) is read by
the release pipeline's own reader (diffcourse_staff.release.notebook), so these tests see
the same questions, solution cells and hidden flags (Otter's rule) that the release
builds. A namespace is built the way a student's kernel holds it: the notebook's
imports, optionally some given helper cells, then the reference solution of every
autograded question, then (optionally) a variant replacing one function. Each test
cell runs in a fresh copy of that namespace, as Otter's doctest runs it in the
student's kernel: any exception, and any printed output, fails the test.

Used by test_ps1_*.py, test_ps2_*.py and test_ps3_*.py (tests/assignments is on
sys.path through conftest.py).
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from otter.assign.solutions import replace_solutions

from diffcourse_staff.course import load_course
from diffcourse_staff.release.authoring import notebook_path
from diffcourse_staff.release.notebook import read_source_notebook

ROOT = Path(__file__).resolve().parents[2]
COURSE = load_course(ROOT / "course.yml")
QUALITY_MARK = "load_digits_model"  # test cells that load the real model (ps3)

# What the notebook's import cell gives every later cell (the student's kernel).
PREAMBLE = """
import math
import time
import numpy as np
import torch
"""

# Given code cells that define helpers the answers call (the other given cells plot,
# train or load models), by problem set: a cell is run if it contains one of these.
HELPER_CELLS = {"ps3": ("def abar_at", "class Rot90")}

_END_QUESTION = re.compile(r"#\s+end\s+question\b", re.IGNORECASE)


def folder(ps: str) -> Path:
    return ROOT / "assignments" / ps


@dataclass
class TestCell:
    source: str
    hidden: bool
    index: int  # position among the question's test cells

    @property
    def quality(self) -> bool:
        """Whether the cell loads the pretrained model (slow; run only when asked)."""
        return QUALITY_MARK in self.source


@dataclass
class Question:
    name: str
    points: float
    manual: bool
    prompt: list[str] = field(default_factory=list)  # markdown shown to students
    solution: list[str] = field(default_factory=list)  # code cells of the solution
    written: list[str] = field(default_factory=list)  # markdown cells of the solution
    tests: list[TestCell] = field(default_factory=list)


@dataclass
class Notebook:
    name: str  # "ps1", ...
    config: dict
    questions: dict[str, Question]  # in notebook order
    given: list[str]  # code cells outside solutions and tests (students see them as they are)
    markdown: list[str]  # markdown cells outside questions (students see them)

    @property
    def autograded(self) -> dict[str, Question]:
        return {name: q for name, q in self.questions.items() if not q.manual}


def parse(ps: str) -> Notebook:
    """Problem set `ps` ("ps1", ...) read into questions; a structural problem fails."""
    src = read_source_notebook(notebook_path(COURSE, COURSE.assignment(ps)))
    assert not src.problems, f"{ps}.ipynb is malformed: {src.problems}"
    blocks = set(src.solution_cells) | set(src.test_cells) | set(src.marker_cells)
    ends = [i for i in src.marker_cells if _END_QUESTION.match(src.source(i))]
    owner: dict[int, Question] = {}  # cell index -> the question whose span holds it
    questions: dict[str, Question] = {}
    for sq in src.questions:
        q = Question(sq.name, sq.points or 0, sq.manual)
        questions[q.name] = q
        end = next((i for i in ends if i > sq.cell), len(src.cells))
        owner.update({i: q for i in range(sq.cell, end + 1)})
        for i in sq.solution_cells:
            kind = src.cells[i].get("cell_type")
            (q.solution if kind == "code" else q.written).append(src.source(i))
        q.tests = [TestCell(t.source, t.hidden, n) for n, t in enumerate(sq.tests)]
    given: list[str] = []
    markdown: list[str] = []
    for i, cell in enumerate(src.cells):
        if i in blocks:
            continue
        if cell.get("cell_type") == "code":
            given.append(src.source(i))
        elif cell.get("cell_type") == "markdown":
            (owner[i].prompt if i in owner else markdown).append(src.source(i))
    return Notebook(ps, src.config or {}, questions, given, markdown)


def defined_functions(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]


def blank(source: str) -> str:
    """What the student starts from, made by Otter's own solution stripping (the
    `raise NotImplementedError` prompts stay, solution blocks go)."""
    return "\n".join(replace_solutions(source.split("\n"), "python"))


def namespace(nb: Notebook, variant: str | None = None, *, blank_answers: bool = False) -> dict:
    """The kernel's globals: imports, the given helper cells (HELPER_CELLS), every
    autograded solution cell (blanked with `blank_answers`), then the variant."""
    ns: dict = {"__name__": "__main__"}
    exec(compile(PREAMBLE, "<preamble>", "exec"), ns)
    for source in nb.given:
        if any(mark in source for mark in HELPER_CELLS.get(nb.name, ())):
            exec(compile(source, "<given>", "exec"), ns)
    for q in nb.autograded.values():
        for source in q.solution:
            code = blank(source) if blank_answers else source
            exec(compile(code, f"<solution {q.name}>", "exec"), ns)
    if variant is not None:
        ns = with_variant(ns, variant)
    return ns


def with_variant(base: dict, source: str) -> dict:
    """A copy of `base` in which `source` (a variant's definitions) replaces functions."""
    ns = dict(base)
    exec(compile(source, "<variant>", "exec"), ns)
    return ns


def run_test(ns: dict, cell: TestCell) -> str | None:
    """Run one test cell in a copy of `ns` as Otter's doctest does; None if it passes.

    Otter turns a test cell into a doctest that expects no output, so a test passes only
    when it raises nothing AND prints nothing: each top-level statement is compiled in
    interactive ("single") mode, so a bare expression whose value is not None (such as
    `torch.manual_seed(0)`) is displayed and fails. Output on stderr fails too.
    """
    env = dict(ns)
    out = io.StringIO()
    shown: list = []
    old_hook = sys.displayhook
    sys.displayhook = lambda value: shown.append(value) if value is not None else None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            for node in ast.parse(cell.source).body:
                module = ast.Interactive(body=[node])
                exec(compile(module, f"<test {cell.index}>", "single"), env)
    except Exception as e:  # an assert or any error fails the test, as in Otter
        return f"{type(e).__name__}: {e}"
    finally:
        sys.displayhook = old_hook
    if shown or out.getvalue():
        return f"the test produced output: {shown!r} {out.getvalue()[:200]!r}"
    return None


def run_question(
    nb: Notebook, question: str, variant: str | None = None, quality: bool = False
) -> list[tuple[TestCell, str | None]]:
    """Each test cell of `question` in a fresh namespace (reference solutions, then the
    variant): (cell, None when it passes or the failure). Cells that load the pretrained
    model run only with `quality`."""
    ns = namespace(nb, variant)
    cells = [c for c in nb.questions[question].tests if quality or not c.quality]
    return [(cell, run_test(ns, cell)) for cell in cells]


def library(module: str, name: str):
    """diffcourse.<module>.<name>; a missing module or name FAILS the test (no skip)."""
    try:
        mod = importlib.import_module(f"diffcourse.{module}")
    except ImportError as e:
        pytest.fail(f"diffcourse.{module} cannot be imported: {e}")
    if not hasattr(mod, name):
        pytest.fail(f"diffcourse.{module}.{name} does not exist")
    return getattr(mod, name)
