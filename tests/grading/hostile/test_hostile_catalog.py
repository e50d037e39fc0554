"""The hostile-submission catalog (catalog.yml), graded as Gradescope grades and locally.

Each case is graded with the built autograder zip twice: in Gradescope's layout
(gradescope_harness.grade_gradescope) and through `python -m diffcourse_staff.release
grade`. outcome.check_run lists what must hold. `make test` grades a small smoke set
(SMOKE); every other case is marked slow and runs with `make test-all`.

Every case must pass with the isolated runner (issue 11). Zips that graded with Otter
inside the student's kernel failed 76 of the 152 (case, path) pairs; matrix.py measures
the whole matrix again.
"""

from __future__ import annotations

import ast
import json
from collections import Counter

import nbformat
import pytest
from catalog_run import PATHS
from gradescope_harness import box_unavailable
from outcome import check_run, hidden_secrets, is_flagged, question_scores
from submissions import CLASSES, Case, build_submission, load_catalog

from diffcourse_staff.release.notebook import strip_magics

CATALOG = load_catalog()
MIN_CASES = 50


def test_catalog_has_every_class_and_enough_cases():
    counts = Counter(c.cls for c in CATALOG.cases)
    assert len(CATALOG.cases) >= MIN_CASES, f"only {len(CATALOG.cases)} cases"
    assert set(counts) == set(CLASSES), f"classes without a case: {set(CLASSES) - set(counts)}"
    fast = [c for c in CATALOG.cases if not c.slow]
    assert fast, "no fast case: make test would grade none"


@pytest.mark.filterwarnings("ignore::nbformat.warnings.MissingIDFieldWarning")
def test_every_submission_builds_and_parses(hostile_dist, tmp_path):
    """Every case builds from the real notebooks; notebook cases are valid nbformat 4 and
    every code cell parses, so a case fails for its attack and not for a typo."""
    for case in CATALOG.cases:
        path = build_submission(case, hostile_dist, tmp_path / case.id)
        assert path.stat().st_size > 0 or case.file == "empty", case.id
        if case.file:
            continue
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                try:
                    ast.parse(strip_magics(cell.source))
                except SyntaxError as e:
                    pytest.fail(f"{case.id}: a code cell does not parse: {e}")
        assert "{{" not in "".join(c.source for c in nb.cells), f"{case.id}: placeholder left"


def _case(**kw) -> Case:
    return Case(**({"id": "x", "cls": "patch", "set": "ps1"} | kw))


def test_outcome_checks_catch_each_failure(hostile_dist):
    """The judge itself: a forged, a broken, a leaking and a slow result are each caught."""
    questions = hostile_dist.questions("ps1")
    baseline = {q: 0.0 for q in questions} | {"q2a": questions["q2a"]}
    honest = {
        "tests": [{"name": q, "score": s, "max_score": questions[q]} for q, s in baseline.items()]
    }
    secrets = hidden_secrets(hostile_dist.zip("ps1"), "")
    assert secrets, "no hidden-test line found to watch for"
    case = _case()
    assert check_run(case, honest, "", 30, questions, baseline, secrets) == []
    forged = {"tests": [{"name": q, "score": p, "max_score": p} for q, p in questions.items()]}
    assert any("gained" in p for p in check_run(case, forged, "", 30, questions, baseline, secrets))
    lost = json.loads(json.dumps(honest))
    next(t for t in lost["tests"] if t["name"] == "q2a")["score"] = 0
    assert any("honest" in p for p in check_run(case, lost, "", 30, questions, baseline, secrets))
    assert check_run(case, None, "none", 30, questions, baseline, secrets)
    assert check_run(case, honest, "", 9 * 60, questions, baseline, secrets)
    leaky = json.loads(json.dumps(honest))
    leaky["tests"][1]["output"] = "failed:\n" + secrets[0]
    assert any("hidden" in p for p in check_run(case, leaky, "", 30, questions, baseline, secrets))
    hidden_entry = json.loads(json.dumps(leaky))
    hidden_entry["tests"][1]["visibility"] = "hidden"
    assert check_run(case, hidden_entry, "", 30, questions, baseline, secrets) == []
    tamper = _case(flag=True)
    assert check_run(tamper, honest, "", 30, questions, baseline, secrets)
    flagged = honest | {"output": "This submission was flagged for manual review: ..."}
    assert is_flagged(flagged) and not check_run(
        tamper, flagged, "", 30, questions, baseline, secrets
    )
    missing = {"tests": honest["tests"][1:]}
    assert question_scores(missing, questions)[1], "a question without a score must be reported"


# `make test` grades this smoke set only (each grading takes about a minute on 2 cores);
# the whole catalog, both paths, runs with `make test-all`.
SMOKE = {("not-json", "gradescope"), ("sigkill-self", "gradescope"), ("abort", "local")}


def _params():
    for case in CATALOG.cases:
        for path in PATHS:
            marks = [] if (case.id, path) in SMOKE and not case.slow else [pytest.mark.slow]
            yield pytest.param(case, path, id=f"{case.id}-{path}", marks=marks)


@pytest.mark.parametrize(("case", "path"), list(_params()))
def test_hostile_submission(case, path, catalog_session):
    if why := box_unavailable():
        pytest.skip(why)
    outcome = catalog_session.run_case(case, path)
    assert outcome.ok, (
        f"{case.id} ({case.cls}) through {path}:\n  "
        + "\n  ".join(outcome.problems)
        + f"\n--- the run's output (tail) ---\n{outcome.run.log[-3000:]}"
    )
