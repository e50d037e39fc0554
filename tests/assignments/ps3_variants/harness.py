"""Run problem set 3's own test cells against reference, buggy and alternative answers.

The source notebook (assignments/ps3/ps3.ipynb) is parsed with nbformat: each
autograded question gives its solution code cells and its test cells (hidden
when the first line is `# HIDDEN`). A namespace is built the way a student's
kernel would hold it: torch/math/numpy, the notebook's given helper cells
(`abar_at`, `ddim_step`, ... and the view classes), the reference solutions of
every question, then the variant under test replacing one function. Each test
cell is executed in a copy of that namespace; an exception is a failure.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "assignments" / "ps3" / "ps3.ipynb"
VARIANTS = Path(__file__).resolve().parent
QUALITY_MARK = "load_digits_model"  # test cells that load the real model


@dataclass
class TestCell:
    source: str
    hidden: bool

    @property
    def quality(self) -> bool:
        return QUALITY_MARK in self.source


@dataclass
class Question:
    name: str
    points: float
    manual: bool
    solution: list[str] = field(default_factory=list)
    tests: list[TestCell] = field(default_factory=list)


@dataclass
class Notebook:
    questions: dict[str, Question]
    given: list[str]  # given code cells that only define helpers


def _first_line(cell) -> str:
    return cell.source.strip().splitlines()[0].strip() if cell.source.strip() else ""


def parse(path: Path = NOTEBOOK) -> Notebook:
    nb = nbformat.read(path, as_version=4)
    questions: dict[str, Question] = {}
    given: list[str] = []
    current: Question | None = None
    block = None  # None, "solution" or "tests"
    for cell in nb.cells:
        head = _first_line(cell)
        if cell.cell_type == "raw":
            if head == "# BEGIN QUESTION":
                config = yaml.safe_load(cell.source.split("\n", 1)[1])
                current = Question(
                    config["name"], config.get("points", 0), bool(config.get("manual"))
                )
                questions[current.name] = current
            elif head == "# END QUESTION":
                current = None
            elif head in ("# BEGIN SOLUTION", "# BEGIN TESTS"):
                block = "solution" if "SOLUTION" in head else "tests"
            elif head in ("# END SOLUTION", "# END TESTS"):
                block = None
            continue
        if cell.cell_type != "code":
            continue
        if current is not None and block == "solution":
            current.solution.append(cell.source)
        elif current is not None and block == "tests":
            current.tests.append(TestCell(cell.source, head == "# HIDDEN"))
        elif current is None and ("def abar_at" in cell.source or "class Rot90" in cell.source):
            given.append(cell.source)
    return Notebook(questions, given)


def base_namespace(nb: Notebook) -> dict:
    """A kernel-like namespace with the given helpers and every reference solution."""
    ns: dict = {"torch": torch, "math": math, "np": np, "__name__": "__main__"}
    for source in nb.given:
        exec(compile(source, "<given>", "exec"), ns)
    for q in nb.questions.values():
        for source in q.solution:
            exec(compile(source, f"<solution {q.name}>", "exec"), ns)
    return ns


def run_tests(
    nb: Notebook, question: str, variant_source: str | None = None, quality: bool = False
) -> list[tuple[TestCell, str | None]]:
    """Execute each test cell of `question`; returns (cell, None on success or the error)."""
    ns = base_namespace(nb)
    if variant_source is not None:
        exec(compile(variant_source, f"<variant {question}>", "exec"), ns)
    results = []
    for cell in nb.questions[question].tests:
        if cell.quality and not quality:
            continue
        scope = dict(ns)
        try:
            exec(compile(cell.source, f"<test {question}>", "exec"), scope)
        except Exception as exc:  # noqa: BLE001 - any failure of a test cell counts
            results.append((cell, f"{type(exc).__name__}: {exc}"))
        else:
            results.append((cell, None))
    return results


def load_catalog(question: str):
    """The module ps3_variants/<question>.py: FUNCTION, BUGS and CORRECT (name -> source)."""
    path = VARIANTS / f"{question}.py"
    spec = importlib.util.spec_from_file_location(f"ps3_variants_{question}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
