"""Problem set 1's own tests, run against right and wrong answers.

The test cells come straight from assignments/ps1/ps1.py and run one by one (as Otter
runs them) in a namespace holding the reference solutions with one function replaced:
- the reference passes every public and hidden test;
- each known bug (ps1_variants/bugs.py) fails at least one HIDDEN test of its question;
- each correct alternative (ps1_variants/correct.py) passes every test of its question;
- a blank answer (the student's starting point) fails every test, public and hidden.
The notebook's structure (points, markers, messages, no leak of hidden tests or
solutions into what students see) is checked here too, before the release pipeline runs.
"""

from __future__ import annotations

import ast
import re

import pytest
import torch
from notebook_harness import blank, defined_functions, folder, namespace, parse, run_test
from ps1_variants.bugs import BUGS, WEAKNESS
from ps1_variants.correct import CORRECT

from diffcourse_staff.course import CourseFileError, load_course

NB = parse("ps1")
AUTOGRADED = NB.autograded


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: one thread is fastest, and it is what a grading container has."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def reference_ns():
    return namespace(NB)


def _variant_cases(catalog):
    for question, variants in catalog.items():
        for name in variants:
            yield pytest.param(question, name, id=f"{question}-{name}")


# ----------------------------------------------------------------- structure


def test_points_add_up_to_the_course_file():
    try:
        course = load_course()
    except CourseFileError as e:  # the course file's own tests report this
        pytest.skip(f"course.yml does not load: {e}")
    ps1 = next(a for a in course.assignments if a.id == "ps1")
    assert sum(q.points for q in NB.questions.values()) == ps1.points == 100


def test_support_files_exist_and_config_is_minimal():
    assert NB.config.get("name") == "ps1"
    for f in NB.config.get("files", []):
        assert (folder("ps1") / f).is_file(), f"support file {f} listed under files: is missing"


def test_every_catalog_names_a_real_question():
    assert set(BUGS) == set(AUTOGRADED), "every autograded question needs a bug catalog"
    assert set(CORRECT) == set(AUTOGRADED), "every autograded question needs correct variants"
    for question, variants in BUGS.items():
        assert len(variants) >= 8, f"{question}: only {len(variants)} bugs catalogued"
    for question, variants in CORRECT.items():
        assert len(variants) >= 3, f"{question}: only {len(variants)} correct variants"


def test_weakness_catalog_covers_every_class():
    """Issue 11: bugs of the five weakness classes the first suite let through, (a) joint
    noise structure, (b) keyword defaults, (c) arguments changed in place, (d) fallbacks and
    edge cases, (e) dtype, shape and gradient discipline: at least 8, every class present."""
    classes = [cls for entries in WEAKNESS.values() for cls, _ in entries.values()]
    assert len(classes) >= 8, f"only {len(classes)} weakness bugs catalogued"
    assert set(classes) == set("abcde"), f"classes covered: {sorted(set(classes))}"


@pytest.mark.parametrize("name", sorted(AUTOGRADED))
def test_question_has_public_and_hidden_tests_and_hidden_ones_decide(name):
    q = AUTOGRADED[name]
    public = [t for t in q.tests if not t.hidden]
    hidden = [t for t in q.tests if t.hidden]
    assert public, f"{name} has no public test"
    assert len(hidden) >= 2 * len(public), f"{name}: hidden tests must decide most points"
    assert len(q.solution) == 1 and defined_functions(q.solution[0]), f"{name}: one solution cell"


@pytest.mark.parametrize("name", sorted(AUTOGRADED))
def test_test_cells_are_quiet_and_well_formed(name):
    for cell in AUTOGRADED[name].tests:
        first = cell.source.strip().splitlines()[0]
        if "hidden" in first.lower():
            assert first == "# HIDDEN", f"{name}: hidden marker must be exactly # HIDDEN"
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert) and node.msg is not None:
                msg = ast.unparse(node.msg)
                assert '"' not in ast.literal_eval(node.msg), f"{name}: a double quote in {msg}"
            if isinstance(node, ast.Assert):
                assert node.msg is not None, f"{name}: an assert without a message"


@pytest.mark.parametrize("name", sorted(NB.questions))
def test_written_questions_have_a_rubric(name):
    q = NB.questions[name]
    if not q.manual:
        return
    text = "\n".join(q.solution + q.written)
    match = re.search(r"Rubric \((\d+) points?\)", text)
    assert match, f"{name}: the solution needs a 'Rubric (N points):' list"
    assert int(match.group(1)) == q.points, f"{name}: rubric points differ from the question's"
    assert q.prompt, f"{name}: no prompt"


# Lines that reveal nothing (class scaffolding of test models, imports, headings).
GENERIC = (
    "#",
    "**Rubric",
    "- (",
    "def ",
    "class ",
    "super(",
    "self.",
    "import ",
    "from ",
    "return ",
)


def _norm(line: str) -> str:
    return " ".join(line.split())


def test_no_hidden_test_or_solution_line_reaches_students():
    """Hidden tests and solutions stay with staff: none of their lines is in student text."""
    student_text = "\n".join(
        [_norm(s) for s in NB.markdown + NB.given]
        + [_norm(p) for q in NB.questions.values() for p in q.prompt]
        + [_norm(t.source) for q in AUTOGRADED.values() for t in q.tests if not t.hidden]
        + [_norm(blank(s)) for q in AUTOGRADED.values() for s in q.solution]
    )
    secret = []
    for q in AUTOGRADED.values():
        secret += [(q.name, line) for t in q.tests if t.hidden for line in t.source.splitlines()]
        for s in q.solution:
            block = r"# BEGIN SOLUTION(?: NO PROMPT)?\n(.*?)# END SOLUTION"
            inside = re.search(block, s, flags=re.S)
            secret += [(q.name, line) for line in inside.group(1).splitlines()]
    for q in NB.questions.values():
        if q.manual:
            secret += [(q.name, line) for s in q.solution + q.written for line in s.splitlines()]
    for question, line in secret:
        line = _norm(line)
        if len(line) < 25 or line.startswith(GENERIC):
            continue
        assert line not in student_text, f"{question}: students would see {line!r}"


# ----------------------------------------------------------------- behaviour


@pytest.mark.parametrize("name", sorted(AUTOGRADED))
def test_reference_passes_every_test(reference_ns, name):
    for i, cell in enumerate(AUTOGRADED[name].tests):
        failure = run_test(reference_ns, cell)
        assert failure is None, f"{name} test {i} fails on the reference: {failure}"


@pytest.fixture(scope="module")
def blank_ns():
    return namespace(NB, blank_answers=True)


@pytest.mark.parametrize("name", sorted(AUTOGRADED))
def test_blank_answer_fails_every_test(blank_ns, name):
    for i, cell in enumerate(AUTOGRADED[name].tests):
        assert run_test(blank_ns, cell) is not None, f"{name} test {i} passes on a blank answer"


@pytest.mark.parametrize(("question", "variant"), list(_variant_cases(BUGS)))
def test_each_bug_fails_a_hidden_test(question, variant):
    source = BUGS[question][variant]
    wanted = defined_functions(AUTOGRADED[question].solution[0])
    assert set(defined_functions(source)) == set(wanted), "the variant must redefine the answer"
    ns = namespace(NB, source)
    hidden = [run_test(ns, c) for c in AUTOGRADED[question].tests if c.hidden]
    assert any(f is not None for f in hidden), (
        f"{question}: bug {variant!r} passes every hidden test"
    )


@pytest.mark.parametrize(("question", "variant"), list(_variant_cases(CORRECT)))
def test_each_correct_alternative_passes_every_test(question, variant):
    source = CORRECT[question][variant]
    wanted = defined_functions(AUTOGRADED[question].solution[0])
    assert set(defined_functions(source)) == set(wanted), "the variant must redefine the answer"
    ns = namespace(NB, source)
    for i, cell in enumerate(AUTOGRADED[question].tests):
        failure = run_test(ns, cell)
        assert failure is None, f"{question}: correct {variant!r} fails test {i}: {failure}"
