"""The hidden tests of the sets with one bug catalog per question discriminate: the
reference passes, every catalogued bug fails a hidden test of its question, every
catalogued correct alternative passes all tests, and a blank answer fails every hidden test.

The catalogs are tests/assignments/<id>_variants/<question>.py (FUNCTION, BUGS, CORRECT,
WEAKNESS); the test cells come straight from assignments/<id>/<id>.py (see
notebook_harness.py). ps1 and ps2 keep one catalog per set (test_ps1/ps2_discrimination.py);
quality checks on the pretrained model run in test_ps3_quality.py / test_ps4_quality.py.
"""

from __future__ import annotations

import ast
import importlib
from functools import cache

import pytest
from notebook_harness import parse, run_question

# Issue 11's weakness classes each set's catalog must cover, at least 8 bugs in all:
# (a) joint structure of injected noise, (b) keyword defaults, (c) arguments changed in
# place, (d) fallbacks and edge cases, (e) dtype, shape and gradient discipline.
# ps3 has no graded function with a defaulted keyword (no b); no graded function of ps4
# draws or takes noise it must keep independent (no a).
WEAKNESS_CLASSES = {"ps3": "acde", "ps4": "bcde"}
SETS = list(WEAKNESS_CLASSES)


@cache
def notebook(aid: str):
    return parse(aid)


def autograded(aid: str) -> list[str]:
    return list(notebook(aid).autograded)


def load_catalog(aid: str, question: str):
    """<aid>_variants/<question>.py: FUNCTION, BUGS and CORRECT (name -> source)."""
    return importlib.import_module(f"{aid}_variants.{question}")


def _questions():
    return [pytest.param(aid, q, id=f"{aid}-{q}") for aid in SETS for q in autograded(aid)]


def _cases(kind: str):
    for aid in SETS:
        for q in autograded(aid):
            for name in getattr(load_catalog(aid, q), kind):
                yield pytest.param(aid, q, name, id=f"{aid}-{q}-{name}")


@pytest.mark.parametrize("aid", SETS)
def test_every_autograded_question_has_a_catalog_and_public_and_hidden_tests(aid):
    assert autograded(aid), f"{aid}: no autograded question found in the notebook"
    for q in autograded(aid):
        cells = notebook(aid).questions[q].tests
        assert any(not c.hidden for c in cells), f"{aid} {q} has no public test"
        assert sum(c.hidden for c in cells) >= 2, f"{aid} {q} has fewer than two hidden tests"
        catalog = load_catalog(aid, q)
        assert len(catalog.BUGS) >= 5, f"{aid} {q}: catalog lists only {len(catalog.BUGS)} bugs"
        assert len(catalog.CORRECT) >= 2, f"{aid} {q}: too few correct alternatives"


@pytest.mark.parametrize("aid", SETS)
def test_test_cells_print_nothing(aid):
    """Otter compares a test cell's output with the saved (empty) one: no bare expressions."""
    for q in autograded(aid):
        for cell in notebook(aid).questions[q].tests:
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
                    raise AssertionError(f"{aid} {q}: a test cell prints {ast.unparse(node)!r}")


@pytest.mark.parametrize("aid", SETS)
def test_points_add_up_to_100(aid):
    assert sum(q.points for q in notebook(aid).questions.values()) == 100


@pytest.mark.parametrize("aid,question", _questions())
def test_reference_passes_every_test(aid, question):
    failures = [err for _, err in run_question(notebook(aid), question) if err]
    assert not failures, f"the reference fails {aid} {question}: {failures}"


@pytest.mark.parametrize("aid,question,bug", list(_cases("BUGS")))
def test_bug_fails_a_hidden_test(aid, question, bug):
    source = load_catalog(aid, question).BUGS[bug]
    results = run_question(notebook(aid), question, source)
    assert any(err for cell, err in results if cell.hidden), (
        f"bug {bug!r} of {aid} {question} passes every hidden test"
    )


@pytest.mark.parametrize("aid,question,alternative", list(_cases("CORRECT")))
def test_correct_alternative_passes_every_test(aid, question, alternative):
    source = load_catalog(aid, question).CORRECT[alternative]
    failures = [err for _, err in run_question(notebook(aid), question, source) if err]
    assert not failures, (
        f"correct alternative {alternative!r} of {aid} {question} fails: {failures}"
    )


@pytest.mark.parametrize("aid,question", _questions())
def test_placeholder_fails_every_hidden_test(aid, question):
    """What a student who wrote nothing submits: the function body is `...`."""
    function = load_catalog(aid, question).FUNCTION
    stub = f"def {function}(*args, **kwargs):\n    ...\n"
    results = run_question(notebook(aid), question, stub)
    passing = [cell.source.splitlines()[:3] for cell, err in results if err is None]
    assert not passing, f"a blank {function} passes tests of {aid} {question}: {passing}"


@pytest.mark.parametrize("aid", SETS)
def test_weakness_catalog_covers_every_class(aid):
    classes = [
        cls
        for q in autograded(aid)
        for cls, _ in getattr(load_catalog(aid, q), "WEAKNESS", {}).values()
    ]
    assert len(classes) >= 8, f"{aid}: only {len(classes)} weakness bugs catalogued"
    assert set(classes) == set(WEAKNESS_CLASSES[aid]), f"{aid}: covered {sorted(set(classes))}"
