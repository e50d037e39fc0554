"""Every public test, in the short-failing form students run (release/public_tests.py),
passes with the reference answers and fails with the blank ones, naming the question.

Running a case as a function instead of module-level doctest lines changes scoping (a name
the case assigns is local to it): this proves no public case of any set depends on that.
"""

from __future__ import annotations

import pytest
from notebook_harness import COURSE, namespace, parse
from otter.test_files.exception_test import ExceptionTestFile

from diffcourse_staff.release.public_tests import case_function, file_header

SETS = [a.id for a in COURSE.notebook_assignments]


def _public_cases(aid: str):
    nb = parse(aid)
    for q in nb.autograded.values():
        for cell in q.tests:
            if not cell.hidden and not cell.quality:
                yield q.name, cell


def _run(question: str, source: str, ns: dict):
    text = file_header(question, 1) + "\n\n" + case_function(1, source)
    test = ExceptionTestFile.from_string(text, path=f"tests/{question}.py")
    test.run(dict(ns))
    (result,) = test.test_case_results
    return result


@pytest.mark.parametrize("aid", SETS)
def test_public_checks_pass_with_the_reference_and_name_the_blank(aid):
    nb = parse(aid)
    reference, blank = namespace(nb), namespace(nb, blank_answers=True)
    cases = list(_public_cases(aid))
    assert cases
    for question, cell in cases:
        ok = _run(question, cell.source, reference)
        assert ok.passed, f"{aid} {question}: {ok.message}"
        failed = _run(question, cell.source, blank)
        assert not failed.passed, f"{aid} {question}: a blank answer passes its public check"
        message = failed.message or ""
        assert "Traceback" not in message and len(message.splitlines()) <= 4, message
        assert f"NotImplementedError: {question}: write" in message, message
