"""Problem set 2's own tests, run against right and wrong answers.

The test cells are taken from the source notebook and run one by one (as Otter runs
them) in a namespace holding the reference solutions with one function replaced:
- the reference passes every public and hidden test;
- each known bug (ps2_variants/bugs.py) fails at least one HIDDEN test of its question;
- each correct alternative (ps2_variants/correct.py) passes every test of its question;
- a blank answer (the student's starting point) fails every test, public and hidden.
"""

from __future__ import annotations

import pytest
import torch
from notebook_harness import defined_functions, namespace, parse, run_test, with_variant
from ps2_variants.bugs import BUGS, WEAKNESS
from ps2_variants.correct import CORRECT

from diffcourse_staff.course import CourseFileError, load_course

NB = parse("ps2")
QUESTIONS = NB.questions
AUTOGRADED = NB.autograded


@pytest.fixture(scope="module")
def reference():
    torch.set_num_threads(1)  # small tensors; also what a grading container has
    return namespace(NB)


def _function_name(question: str) -> list[str]:
    """Names of the functions a question's solution cells define."""
    return [name for src in AUTOGRADED[question].solution for name in defined_functions(src)]


def test_points_add_up_to_the_course_file():
    try:
        course = load_course()
    except CourseFileError as e:  # the course file's own tests report this
        pytest.skip(f"course.yml does not load: {e}")
    ps2 = next(a for a in course.assignments if a.id == "ps2")
    assert sum(q.points for q in QUESTIONS.values()) == ps2.points


@pytest.mark.parametrize("name", sorted(AUTOGRADED))
def test_question_has_public_and_hidden_tests_and_hidden_ones_decide(name):
    q = AUTOGRADED[name]
    public = [t for t in q.tests if not t.hidden]
    hidden = [t for t in q.tests if t.hidden]
    assert public, f"{name}: no public test"
    assert len(hidden) > len(public), f"{name}: hidden tests must decide most of the points"


@pytest.mark.parametrize("name", sorted(AUTOGRADED))
def test_reference_passes_every_test(reference, name):
    for test in AUTOGRADED[name].tests:
        failure = run_test(reference, test)
        assert failure is None, f"{name} test {test.index}: {failure}"


@pytest.mark.parametrize(
    "question, label, source", BUGS, ids=[f"{q}: {label}" for q, label, _ in BUGS]
)
def test_bug_fails_a_hidden_test(reference, question, label, source):
    ns = with_variant(reference, source)
    hidden = [t for t in AUTOGRADED[question].tests if t.hidden]
    failed = [t.index for t in hidden if run_test(ns, t) is not None]
    assert failed, f"{question}: the bug '{label}' passes every hidden test"


@pytest.mark.parametrize(
    "question, label, source", CORRECT, ids=[f"{q}: {label}" for q, label, _ in CORRECT]
)
def test_correct_alternative_passes_every_test(reference, question, label, source):
    ns = with_variant(reference, source)
    for test in AUTOGRADED[question].tests:
        failure = run_test(ns, test)
        assert failure is None, f"{question} '{label}' fails test {test.index}: {failure}"


@pytest.mark.parametrize("name", sorted(AUTOGRADED))
def test_blank_answer_fails_every_test(reference, name):
    ns = dict(reference)
    for fn in _function_name(name):
        exec(f"def {fn}(*args, **kwargs):\n    ...\n", ns)
    passed = [t.index for t in AUTOGRADED[name].tests if run_test(ns, t) is None]
    assert not passed, f"{name}: a blank answer passes tests {passed}"


def test_every_question_has_bugs_and_alternatives():
    with_bugs = {q for q, _, _ in BUGS}
    with_alternatives = {q for q, _, _ in CORRECT}
    assert set(AUTOGRADED) <= with_bugs, set(AUTOGRADED) - with_bugs
    assert set(AUTOGRADED) <= with_alternatives, set(AUTOGRADED) - with_alternatives


def test_weakness_catalog_covers_every_class():
    """Issue 11: bugs of the five weakness classes the first suite let through, (a) joint
    noise structure, (b) keyword defaults, (c) arguments changed in place, (d) fallbacks and
    edge cases, (e) dtype, shape and gradient discipline: at least 8, every class present."""
    classes = [cls for _, _, cls, _ in WEAKNESS]
    assert len(classes) >= 8, f"only {len(classes)} weakness bugs catalogued"
    assert set(classes) == set("abcde"), f"classes covered: {sorted(set(classes))}"
