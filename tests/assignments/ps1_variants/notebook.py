"""Read problem set 1's source notebook and run its own test cells against chosen answers.

The source (assignments/ps1/ps1.ipynb) is parsed with nbformat, following the raw-cell
markers of Otter's assign format: each question gives its points, its solution code cells
and its test cells (hidden when the first line is `# HIDDEN`). A namespace is built the way
a student's kernel holds it: the notebook's imports, then the reference solution of every
question, then (optionally) a variant replacing one function. Each test cell runs in a
fresh copy of that namespace, as Otter runs it in the student's kernel; any exception is a
failure.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[3]
FOLDER = ROOT / "assignments" / "ps1"
NOTEBOOK = FOLDER / "ps1.ipynb"

# What the notebook's import cell gives every later cell (the student's kernel).
PREAMBLE = """
import math
import time
import numpy as np
import torch
"""


@dataclass
class TestCell:
    source: str
    hidden: bool


@dataclass
class Question:
    name: str
    points: float
    manual: bool
    prompt: list[str] = field(default_factory=list)  # markdown shown to students
    solution: list[str] = field(default_factory=list)  # code (autograded) or markdown (manual)
    tests: list[TestCell] = field(default_factory=list)


@dataclass
class Notebook:
    config: dict
    questions: dict[str, Question]
    given: list[str]  # code cells outside questions (students see them as they are)
    markdown: list[str]  # markdown cells outside solutions (students see them)


def _head(cell) -> str:
    lines = cell.source.strip().splitlines()
    return lines[0].strip() if lines else ""


def parse(path: Path = NOTEBOOK) -> Notebook:
    nb = nbformat.read(path, as_version=4)
    config: dict = {}
    questions: dict[str, Question] = {}
    given: list[str] = []
    markdown: list[str] = []
    current: Question | None = None
    block = None  # None, "solution" or "tests"
    for cell in nb.cells:
        head = _head(cell)
        if cell.cell_type == "raw":
            body = cell.source.split("\n", 1)[1] if "\n" in cell.source else ""
            if head == "# ASSIGNMENT CONFIG":
                config = yaml.safe_load(body) or {}
            elif head == "# BEGIN QUESTION":
                q = yaml.safe_load(body)
                current = Question(str(q["name"]), q.get("points", 0), bool(q.get("manual")))
                questions[current.name] = current
            elif head == "# END QUESTION":
                current = None
            elif head == "# BEGIN SOLUTION":
                block = "solution"
            elif head == "# BEGIN TESTS":
                block = "tests"
            elif head in ("# END SOLUTION", "# END TESTS"):
                block = None
            continue
        if block == "solution":
            current.solution.append(cell.source)
        elif block == "tests":
            current.tests.append(TestCell(cell.source, head == "# HIDDEN"))
        elif cell.cell_type == "markdown":
            (current.prompt if current else markdown).append(cell.source)
        elif cell.cell_type == "code":
            given.append(cell.source)
    return Notebook(config, questions, given, markdown)


def autograded(nb: Notebook) -> dict[str, Question]:
    return {name: q for name, q in nb.questions.items() if not q.manual}


def defined_functions(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]


def blank(source: str) -> str:
    """What the student starts from: each `# BEGIN SOLUTION ... # END SOLUTION` becomes `...`."""
    return re.sub(
        r"^(\s*)# BEGIN SOLUTION\n.*?^\s*# END SOLUTION\n?",
        r"\1...\n",
        source,
        flags=re.S | re.M,
    )


def namespace(nb: Notebook, variant: str | None = None, blank_answers: bool = False) -> dict:
    """The kernel's globals after the imports, every solution cell, then the variant."""
    ns: dict = {"__name__": "ps1_under_test"}
    exec(compile(PREAMBLE, "<preamble>", "exec"), ns)
    for q in autograded(nb).values():
        for src in q.solution:
            code = blank(src) if blank_answers else src
            exec(compile(code, f"<{q.name} solution>", "exec"), ns)
    if variant is not None:
        exec(compile(variant, "<variant>", "exec"), ns)
    return ns


def run_test(ns: dict, cell: TestCell) -> str | None:
    """Run one test cell in a copy of ns as Otter's doctest does; None if it passes.

    Each top-level statement is compiled in interactive ("single") mode, so a statement
    that evaluates to a value prints it, and printed output fails the test as it does
    in Otter (the expected output of every test cell is empty).
    """
    env = dict(ns)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            for node in ast.parse(cell.source).body:
                module = ast.Interactive(body=[node])
                exec(compile(module, "<test cell>", "single"), env)
    except Exception as e:  # any exception fails the test, as in Otter
        return f"{type(e).__name__}: {e}"
    if out.getvalue():
        return f"the test printed {out.getvalue()[:200]!r}"
    return None
