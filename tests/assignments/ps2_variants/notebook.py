"""Read problem set 2's source notebook: its questions, reference solutions and test cells.

The tests of tests/assignments/test_ps2_*.py use this to run the notebook's own test
cells against the reference solution and against variants (student bugs and correct
alternatives), the way Otter runs them: each test cell alone, in a namespace that
holds the student's functions.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
import torch
import yaml

REPO = Path(__file__).resolve().parents[3]
NOTEBOOK = REPO / "assignments" / "ps2" / "ps2.ipynb"


@dataclass
class TestCell:
    source: str
    hidden: bool
    index: int  # position among the question's test cells


@dataclass
class Question:
    name: str
    points: float
    manual: bool
    solution: list[str] = field(default_factory=list)  # code cells of the solution
    tests: list[TestCell] = field(default_factory=list)


def load_questions(path: Path = NOTEBOOK) -> dict[str, Question]:
    """Questions in notebook order, parsed from Otter's raw-cell markers."""
    nb = nbformat.read(path, as_version=4)
    questions: dict[str, Question] = {}
    current: Question | None = None
    block = None  # "solution" | "tests" | None
    for cell in nb.cells:
        src = cell.source
        first = src.strip().splitlines()[0].strip() if src.strip() else ""
        if cell.cell_type == "raw":
            if first == "# BEGIN QUESTION":
                cfg = yaml.safe_load("\n".join(src.strip().splitlines()[1:]))
                current = Question(cfg["name"], cfg["points"], bool(cfg.get("manual", False)))
                questions[current.name] = current
            elif first == "# END QUESTION":
                current = None
            elif first in ("# BEGIN SOLUTION", "# BEGIN TESTS"):
                block = "solution" if "SOLUTION" in first else "tests"
            elif first in ("# END SOLUTION", "# END TESTS"):
                block = None
            continue
        if current is None or cell.cell_type != "code":
            continue
        if block == "solution":
            current.solution.append(src)
        elif block == "tests":
            hidden = first.startswith("#") and "hidden" in first.lower()
            current.tests.append(TestCell(src, hidden, len(current.tests)))
    return questions


def autograded(questions: dict[str, Question]) -> dict[str, Question]:
    return {name: q for name, q in questions.items() if not q.manual}


def reference_namespace(questions: dict[str, Question]) -> dict:
    """A namespace holding every reference function of the autograded questions."""
    ns: dict = {"torch": torch, "math": math, "np": np}
    for q in autograded(questions).values():
        for src in q.solution:
            exec(compile(src, f"<solution {q.name}>", "exec"), ns)
    return ns


def with_variant(base: dict, source: str) -> dict:
    """A copy of `base` in which `source` (a variant's definitions) replaces functions."""
    ns = dict(base)
    exec(compile(source, "<variant>", "exec"), ns)
    return ns


@dataclass
class Outcome:
    passed: bool
    message: str
    output: str


def run_test(ns: dict, test: TestCell) -> Outcome:
    """Run one test cell in a copy of `ns` the way Otter's doctest runner sees it.

    Otter turns a test cell into a doctest that expects no output, so a test passes
    only when it raises nothing AND prints nothing (a top-level expression whose value
    is not None, such as a bare `torch.manual_seed(0)`, would print and fail).
    """
    env = dict(ns)
    out = io.StringIO()
    shown: list = []
    tree = ast.parse(test.source)
    old_hook = sys.displayhook
    sys.displayhook = lambda value: shown.append(value) if value is not None else None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            for stmt in tree.body:
                code = compile(ast.Interactive(body=[stmt]), f"<test {test.index}>", "single")
                exec(code, env)
    except Exception as exc:  # an assert or any error fails the test, as in Otter
        return Outcome(False, f"{type(exc).__name__}: {exc}", out.getvalue())
    finally:
        sys.displayhook = old_hook
    if shown or out.getvalue():
        return Outcome(False, f"the test produced output: {shown!r} {out.getvalue()!r}", "")
    return Outcome(True, "", "")
