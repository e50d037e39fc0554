"""Bad input stops `make grades` with the file, the row and the column; good input in any
order or layout gives the same grades."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from grades_helpers import copy_scheme, final_grades, run_grades

from diffcourse_staff.course import load_course
from diffcourse_staff.grades.errors import GradesInputError
from diffcourse_staff.grades.inputs import read_inputs
from diffcourse_staff.grades.lateness import late_units, parse_lateness

WEIGHTED = "weighted_5_5_45_45"


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as f:
        return list(csv.reader(f))


def write(path: Path, table: list[list[str]]) -> None:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(table)


def edit(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell; row counts as a spreadsheet does (header = 1)."""
    table = rows(path)
    table[row - 1][table[0].index(column)] = value
    write(path, table)


def expect_error(course: Path, inputs: Path, *fragments: str) -> GradesInputError:
    with pytest.raises(GradesInputError) as e:
        read_inputs(load_course(course), inputs)
    for fragment in fragments:
        assert fragment in str(e.value)
    return e.value


@pytest.fixture
def weighted(tmp_path):
    return copy_scheme(WEIGHTED, tmp_path)


def test_lateness_parsing_grace_and_extensions():
    assert parse_lateness("225:07:02") == 225 * 3600 + 7 * 60 + 2
    assert parse_lateness("") == 0
    with pytest.raises(ValueError):
        parse_lateness("1 day")
    units = {"unit_seconds": 86400, "grace_minutes": 15}
    assert late_units(15 * 60, extension_units=0, **units) == 0  # inside the grace
    assert late_units(15 * 60 + 1, extension_units=0, **units) == 1
    assert late_units(86400 + 15 * 60, extension_units=0, **units) == 1
    assert late_units(86400 + 15 * 60 + 1, extension_units=0, **units) == 2
    assert late_units(2 * 86400, extension_units=2, **units) == 0
    assert late_units(3 * 86400, extension_units=2, **units) == 1


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "message"),
    [
        ("Homework_1_Code_scores.csv", 3, "Lateness (H:M:S)", "2 days", "not a lateness"),
        ("Homework_1_Code_scores.csv", 4, "Submission Time", "yesterday", "not a submission"),
        ("Homework_1_Code_scores.csv", 5, "Total Score", "sixty", "not a number"),
        ("Homework_1_Code_scores.csv", 6, "Max Points", "50.0", "differs from 60"),
        ("Homework_2_Written_scores.csv", 2, "Status", "Done", "unknown status"),
        ("Homework_2_Written_scores.csv", 7, "SID", "S999", "not on the roster"),
        ("Homework_2_Written_scores.csv", 7, "SID", "S001", "duplicate SID 'S001' (also row 2)"),
        ("Homework_2_Written_scores.csv", 3, "SID", "", "empty SID"),
    ],
)
def test_a_bad_cell_is_named_by_file_row_and_column(weighted, file, row, column, value, message):
    course, inputs = weighted
    edit(inputs / "gradescope" / file, row, column, value)
    error = expect_error(course, inputs, file, message)
    assert error.row == row and error.column == column


def test_a_missing_column_is_named(weighted):
    course, inputs = weighted
    path = inputs / "gradescope" / "Final_project_scores.csv"
    table = rows(path)
    drop = table[0].index("Lateness (H:M:S)")
    write(path, [r[:drop] + r[drop + 1 :] for r in table])
    error = expect_error(course, inputs, "Final_project_scores.csv", "missing column")
    assert error.column == "Lateness (H:M:S)" and error.row == 1


def test_an_export_no_assignment_claims_is_refused(weighted):
    course, inputs = weighted
    (inputs / "gradescope" / "Homework_1_Code_scores.csv").rename(
        inputs / "gradescope" / "Homework_9_scores.csv"
    )
    expect_error(course, inputs, "Homework_9_scores.csv", "matches no Gradescope assignment")


def test_a_missing_export_is_refused_not_taken_as_zero(weighted):
    course, inputs = weighted
    (inputs / "gradescope" / "Homework_4_Written_scores.csv").unlink()
    expect_error(course, inputs, "Homework 4 (Written)", "no export gives")


def test_the_same_part_from_two_files_is_refused(weighted):
    course, inputs = weighted
    src = inputs / "gradescope" / "Homework_1_Code_scores.csv"
    (inputs / "gradescope" / "homework_1_code__scores.csv").write_bytes(src.read_bytes())
    expect_error(course, inputs, "keep one of the two")


def test_bad_extensions_participation_and_container_rows(tmp_path):
    for file, row, column, value, message in [
        ("extensions.csv", 2, "Assignment", "hw7", "unknown assignment id 'hw7'"),
        ("extensions.csv", 3, "Excused", "maybe", "expected yes or no"),
        ("extensions.csv", 2, "Extra Days", "1.5", "whole days"),
        ("participation.csv", 4, "Participation", "11", "more than the component's 10 points"),
        ("container/hw2/scores.csv", 3, "total", "61", "more than the Max Points 60"),
        ("container/hw2/scores.csv", 2, "SID", "Z1", "not on the roster"),
    ]:
        dest = tmp_path / file.replace("/", "_") / str(row) / column
        dest.mkdir(parents=True)
        course, inputs = copy_scheme(WEIGHTED, dest)
        edit(inputs / file, row, column, value)
        error = expect_error(course, inputs, Path(file).name, message)
        assert (error.row, error.column) == (row, column), file


def test_a_byte_order_mark_is_not_part_of_the_first_column(weighted):
    course, inputs = weighted
    roster = inputs / "roster.csv"
    roster.write_bytes(b"\xef\xbb\xbf" + roster.read_bytes())
    assert "S001" in read_inputs(load_course(course), inputs).roster.index


def test_the_command_prints_the_error_and_fails(weighted, tmp_path, capsys):
    course, inputs = weighted
    edit(inputs / "gradescope" / "Homework_3_Code_scores.csv", 4, "Lateness (H:M:S)", "x")
    assert run_grades(course, inputs, tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert "Homework_3_Code_scores.csv: row 4: column 'Lateness (H:M:S)'" in err
    assert not (tmp_path / "out" / "final_grades.csv").exists()


def test_row_order_of_the_inputs_does_not_matter(tmp_path):
    reference_course, reference_inputs = copy_scheme(WEIGHTED, tmp_path / "a")
    assert run_grades(reference_course, reference_inputs, tmp_path / "a_out") == 0
    course, inputs = copy_scheme(WEIGHTED, tmp_path / "b")
    shuffle = random.Random(14)
    for path in sorted(inputs.rglob("*.csv")):
        table = rows(path)
        body = table[1:]
        shuffle.shuffle(body)
        write(path, [table[0], *body])
    assert run_grades(course, inputs, tmp_path / "b_out") == 0
    a, b = final_grades(tmp_path / "a_out"), final_grades(tmp_path / "b_out")
    assert a.sort_index().equals(b.sort_index())


def test_gradebook_and_per_assignment_exports_give_the_same_grades(tmp_path):
    """The presentation/exam scheme's gradebook, rewritten as two "Download Grades" CSVs."""
    course, inputs = copy_scheme("presentation_exam", tmp_path)
    assert run_grades(course, inputs, tmp_path / "from_gradebook") == 0
    gradebook = inputs / "gradescope" / "DIFF_999_Grades.csv"
    table = rows(gradebook)
    head = table[0]
    roster = [["First Name", "Last Name", "SID", "Email"]] + [r[:4] for r in table[1:]]
    write(inputs / "roster.csv", roster)
    for name in ("Paper presentation", "Final exam"):
        out = [
            ["First Name", "Last Name", "SID", "Email", "Total Score", "Max Points", "Status"]
            + ["Submission Time", "Lateness (H:M:S)"]
        ]
        for r in table[1:]:
            cell = dict(zip(head, r, strict=True))
            status = "Graded" if cell[name] else "Missing"
            out.append(
                r[:4]
                + [cell[name], cell[f"{name} - Max Points"], status]
                + [cell[f"{name} - Submission Time"], cell[f"{name} - Lateness (H:M:S)"]]
            )
        write(inputs / "gradescope" / f"{name.replace(' ', '_')}_scores.csv", out)
    # Both layouts at once: the per-assignment exports must agree with the gradebook.
    assert run_grades(course, inputs, tmp_path / "from_both") == 0
    saved = gradebook.read_bytes()
    gradebook.unlink()
    assert run_grades(course, inputs, tmp_path / "from_exports") == 0
    a = final_grades(tmp_path / "from_gradebook").sort_index()
    assert a.equals(final_grades(tmp_path / "from_exports").sort_index())
    assert a.equals(final_grades(tmp_path / "from_both").sort_index())
    gradebook.write_bytes(saved)
    edit(inputs / "gradescope" / "Final_exam_scores.csv", 3, "Total Score", "41.0")
    error = expect_error(course, inputs, "Final_exam_scores.csv", "differs from 40")
    assert (error.row, error.column) == (3, "Total Score")
