"""The lint names file, cell and question for each authoring mistake, before Otter runs."""

from __future__ import annotations

import pytest

from diffcourse_staff.release import ReleaseError
from diffcourse_staff.release.lint import lint_notebook
from tests.release.conftest import cell_index, edit_notebook, new_cell, replace_in_cell


def lint(fc, aid="fx1"):
    course = fc.course
    return lint_notebook(fc.notebooks[aid], course.assignment(aid))


def lint_error(fc, edit) -> str:
    edit_notebook(fc.notebooks["fx1"], edit)
    with pytest.raises(ReleaseError) as info:
        lint(fc)
    assert info.value.assignment == "fx1"
    return str(info.value)


def test_good_fixture_passes_the_lint(fixture_course):
    src, warnings = lint(fixture_course)
    assert [q.name for q in src.questions] == ["q1", "q2", "q3"]
    assert warnings == []


def test_missing_kernelspec(fixture_course):
    msg = lint_error(fixture_course, lambda nb: nb["metadata"].pop("kernelspec"))
    assert "missing metadata.kernelspec" in msg and "fx1.ipynb" in msg


@pytest.mark.parametrize(
    "bad, key, suggestion",
    [
        ("generate:\n  threshold: 0.5\n", "generate.threshold", "generate.score_threshold"),
        ("tests:\n  url: https://x\n", "tests.url", "tests.url_prefix"),
        ("fiels:\n  - data.txt\n", "fiels", "files"),
    ],
)
def test_misspelled_config_keys(fixture_course, bad, key, suggestion):
    def edit(nb):
        nb["cells"][0]["source"] += bad

    msg = lint_error(fixture_course, edit)
    assert f"unknown or misspelled config key '{key}'" in msg
    assert f"did you mean '{suggestion}'" in msg
    assert "cell 0" in msg


def test_unquoted_python_version(fixture_course):
    def edit(nb):
        nb["cells"][0]["source"] += "python_version: 3.10\n"

    assert "python_version must be quoted" in lint_error(fixture_course, edit)


def test_pipeline_owned_key(fixture_course):
    def edit(nb):
        nb["cells"][0]["source"] += "requirements: requirements.txt\n"

    assert "'requirements' is set by the release pipeline" in lint_error(fixture_course, edit)


def test_double_quote_in_a_test_message(fixture_course):
    def edit(nb):
        replace_in_cell(nb, "# HIDDEN\nimport numpy", "check the factor", 'check \\"a\\"')

    msg = lint_error(fixture_course, edit)
    assert "fx1: " in msg and "(q1)" in msg and "test case 2: a double quote" in msg
    assert "on line 5" in msg


def test_double_quoted_messages_are_fine(fixture_course):
    """ruff format writes double-quoted strings in notebooks: only a quote inside counts."""
    text = fixture_course.notebooks["fx1"].read_text()
    assert '\\"the values are not multiplied by a: check the factor\\"' in text
    lint(fixture_course)


def test_unbalanced_solution_markers(fixture_course):
    def edit(nb):
        i = cell_index(nb, "# END SOLUTION", "raw")
        del nb["cells"][i]  # q1's END SOLUTION raw cell

    msg = lint_error(fixture_course, edit)
    assert "END TESTS" in msg or "END QUESTION" in msg
    assert "still open" in msg or "never closed" in msg


def test_unbalanced_inline_markers(fixture_course):
    def edit(nb):
        replace_in_cell(nb, "def scale", "    # END SOLUTION", "")

    msg = lint_error(fixture_course, edit)
    assert "(q1)" in msg and "BEGIN SOLUTION is never closed" in msg


def test_nested_question(fixture_course):
    def edit(nb):
        i = cell_index(nb, "name: q2", "raw")
        j = cell_index(nb, "# END QUESTION", "raw")  # q1's end
        nb["cells"].insert(i, nb["cells"].pop(j))  # q1 now ends after q2 begins: nested

    assert "BEGIN QUESTION inside the QUESTION block" in lint_error(fixture_course, edit)


def test_question_without_tests(fixture_course):
    def edit(nb):
        start = cell_index(nb, "# BEGIN TESTS", "raw")
        end = start + 3  # BEGIN TESTS, public, hidden, END TESTS of q1
        del nb["cells"][start : end + 1]

    msg = lint_error(fixture_course, edit)
    assert "(q1): an autograded question without tests" in msg


def test_hidden_marker_must_be_exact(fixture_course):
    def edit(nb):
        replace_in_cell(nb, "# HIDDEN\nimport numpy", "# HIDDEN", "# hidden test of the factor")

    assert "write exactly '# HIDDEN'" in lint_error(fixture_course, edit)


def test_points_must_add_up_to_course_points(fixture_course):
    def edit(nb):
        replace_in_cell(nb, "name: q2", "points: 4", "points: 5")

    msg = lint_error(fixture_course, edit)
    assert "add up to 11" in msg and "course.yml gives fx1 10 points" in msg


def test_written_question_needs_a_rubric(fixture_course):
    def edit(nb):
        replace_in_cell(nb, "Rubric (2 points)", "Rubric (2 points)", "Marks (2 points)")

    assert "(q3): the solution of a written question has no rubric" in lint_error(
        fixture_course, edit
    )


def test_missing_support_file(fixture_course):
    (fixture_course.notebooks["fx1"].parent / "data.txt").unlink()
    with pytest.raises(ReleaseError, match="support file 'data.txt'"):
        lint(fixture_course)


def test_all_problems_are_reported_at_once(fixture_course):
    def edit(nb):
        nb["metadata"].pop("kernelspec")
        nb["cells"][0]["source"] += "generate:\n  threshhold: 1\n"
        nb["cells"].append(new_cell("raw", "# END TESTS"))

    msg = lint_error(fixture_course, edit)
    assert "3 problems" in msg
