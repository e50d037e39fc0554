"""Given code never crashes on a student's `None` with an unrelated message (issue 10).

Every call of a function students write, made by code the notebook gives them, goes
through the set's `returned(value, "qN: name")` helper, which stops with
"qN: name returned None; did you forget `return`?" instead of a TypeError deep inside
the given code. Checked statically on every set, and by running given cells.
"""

from __future__ import annotations

import ast
import re

import matplotlib
import pytest
import torch
from notebook_harness import COURSE, parse

from diffcourse_staff.release.authoring import notebook_path
from diffcourse_staff.release.notebook import read_source_notebook

matplotlib.use("Agg")
SETS = [a.id for a in COURSE.notebook_assignments]
_DEF = re.compile(r"^def (\w+)\(", re.MULTILINE)


def _source(aid: str):
    return read_source_notebook(notebook_path(COURSE, COURSE.assignment(aid)))


def student_functions(aid: str) -> dict[str, str]:
    """Function name -> question, for every function an autograded solution defines."""
    return {
        name: q.name
        for q in parse(aid).autograded.values()
        for cell in q.solution
        for name in _DEF.findall(cell)
    }


def given_cells(aid: str) -> list[tuple[int, str]]:
    src = _source(aid)
    inside = set(src.solution_cells) | set(src.test_cells) | set(src.marker_cells)
    return [
        (i, src.source(i))
        for i, c in enumerate(src.nb["cells"])
        if c["cell_type"] == "code" and i not in inside
    ]


def unguarded_calls(aid: str) -> list[str]:
    funcs = student_functions(aid)
    problems = []
    for i, code in given_cells(aid):
        tree = ast.parse(code)
        guarded = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id == "returned" and len(node.args) == 2:
                call, label = node.args
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
                    name = call.func.id
                    want = f"{funcs.get(name)}: {name}"
                    if not (isinstance(label, ast.Constant) and label.value == want):
                        problems.append(f"cell {i} line {node.lineno}: label must be {want!r}")
                    guarded.add(id(call))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in funcs
                and id(node) not in guarded
            ):
                problems.append(f"cell {i} line {node.lineno}: {node.func.id}(...) unguarded")
    return problems


@pytest.mark.parametrize("aid", SETS)
def test_given_code_guards_every_call_of_a_student_function(aid):
    assert student_functions(aid), "no student functions found: the check would prove nothing"
    assert unguarded_calls(aid) == []


@pytest.mark.parametrize("aid", SETS)
def test_the_guard_is_the_same_in_every_set(aid):
    defs = [code for _, code in given_cells(aid) if "def returned(value, label):" in code]
    assert len(defs) == 1, f"{aid} must define returned() once in its given code"
    ps1 = next(code for _, code in given_cells("ps1") if "def returned(value, label):" in code)
    block = re.compile(r"^def returned\(value, label\):\n(?:    .*\n)+", re.MULTILINE)
    assert block.search(defs[0] + "\n").group(0) == block.search(ps1 + "\n").group(0)


def test_a_forgotten_return_is_named_where_given_code_calls_it():
    """ps1's schedule plot and training cells, run with a linear_betas that forgets `return`."""
    cells = dict(given_cells("ps1"))
    ns: dict = {}
    setup = next(code for code in cells.values() if "def returned(value, label):" in code)
    exec(_without_support_import(setup), ns)
    plot = next(code for code in cells.values() if "schedules = {" in code)

    def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02):
        betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float64)  # noqa: F841

    ns.update(linear_betas=linear_betas, cosine_betas=lambda T=1000, s=0.008: None)
    with pytest.raises(TypeError) as info:
        exec(plot, ns)
    assert str(info.value) == "q2a: linear_betas returned None; did you forget `return`?"


def _without_support_import(setup: str) -> str:
    """The set-up cell without the support-module import (plots and helpers need only torch)."""
    return "\n".join(line for line in setup.splitlines() if "ps1_support" not in line)
