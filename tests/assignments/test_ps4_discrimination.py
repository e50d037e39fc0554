"""Problem set 3's tests discriminate: the reference passes, every catalogued bug fails a
hidden test of its question, every catalogued correct alternative passes all tests.

The catalogs are tests/assignments/ps4_variants/<question>.py; the test cells come
straight from assignments/ps4/ps4.ipynb (generated from ps4.py; see notebook_harness.py).
"""

from __future__ import annotations

import ast
import importlib

import pytest
from notebook_harness import parse, run_question

NB = parse("ps4")
AUTOGRADED = list(NB.autograded)


def load_catalog(question: str):
    """ps4_variants/<question>.py: FUNCTION, BUGS and CORRECT (name -> source)."""
    return importlib.import_module(f"ps4_variants.{question}")


def _cases(kind: str):
    for q in AUTOGRADED:
        catalog = load_catalog(q)
        for name in getattr(catalog, kind):
            yield pytest.param(q, name, id=f"{q}-{name}")


def test_every_autograded_question_has_a_catalog_and_public_and_hidden_tests():
    assert AUTOGRADED, "no autograded question found in the notebook"
    for q in AUTOGRADED:
        cells = NB.questions[q].tests
        assert any(not c.hidden for c in cells), f"{q} has no public test"
        assert sum(c.hidden for c in cells) >= 2, f"{q} has fewer than two hidden tests"
        catalog = load_catalog(q)
        assert len(catalog.BUGS) >= 5, f"{q}: catalog lists only {len(catalog.BUGS)} bugs"
        assert len(catalog.CORRECT) >= 2, f"{q}: catalog lists too few correct alternatives"


def test_test_cells_print_nothing():
    """Otter compares a test cell's output with the saved (empty) one: no bare expressions."""
    for q in AUTOGRADED:
        for cell in NB.questions[q].tests:
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
                    raise AssertionError(f"{q}: a test cell prints {ast.unparse(node)!r}")


def test_points_add_up_to_100():
    assert sum(q.points for q in NB.questions.values()) == 100


@pytest.mark.parametrize("question", AUTOGRADED)
def test_reference_passes_every_test(question):
    failures = [err for _, err in run_question(NB, question) if err]
    assert not failures, f"the reference fails {question}: {failures}"


@pytest.mark.parametrize("question,bug", list(_cases("BUGS")))
def test_bug_fails_a_hidden_test(question, bug):
    source = load_catalog(question).BUGS[bug]
    results = run_question(NB, question, source)
    assert any(err for cell, err in results if cell.hidden), (
        f"bug {bug!r} of {question} passes every hidden test"
    )


@pytest.mark.parametrize("question,alternative", list(_cases("CORRECT")))
def test_correct_alternative_passes_every_test(question, alternative):
    source = load_catalog(question).CORRECT[alternative]
    failures = [err for _, err in run_question(NB, question, source) if err]
    assert not failures, f"correct alternative {alternative!r} of {question} fails: {failures}"


@pytest.mark.parametrize("question", AUTOGRADED)
def test_placeholder_fails_every_hidden_test(question):
    """What a student who wrote nothing submits: the function body is `...`."""
    function = load_catalog(question).FUNCTION
    stub = f"def {function}(*args, **kwargs):\n    ...\n"
    results = run_question(NB, question, stub)
    passing = [cell.source.splitlines()[:3] for cell, err in results if err is None]
    assert not passing, f"a blank {function} passes tests of {question}: {passing}"


def test_weakness_catalog_covers_every_class():
    """Issue 11's weakness classes that apply here: (b) keyword defaults (flow_step's method),
    (c) arguments changed in place, (d) edge cases, (e) dtype, shape and gradient discipline;
    at least 8. Class (a), the joint structure of injected noise, has no target: no graded
    function of ps4 draws or takes noise it must keep independent."""
    classes = [
        cls for q in AUTOGRADED for cls, _ in getattr(load_catalog(q), "WEAKNESS", {}).values()
    ]
    assert len(classes) >= 8, f"only {len(classes)} weakness bugs catalogued"
    assert set(classes) == set("bcde"), f"classes covered: {sorted(set(classes))}"
