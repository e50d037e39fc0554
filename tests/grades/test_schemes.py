"""`python -m diffcourse_staff.grades` on the three example schemes gives the hand-worked grades.

Each expected value below is computed in its comment from the synthetic exports in
tests/grades/schemes/<scheme>/inputs (all names and SIDs invented).
"""

from __future__ import annotations

import pytest
from grades_helpers import final_grades, run_grades, scheme_course

# Weighted 5/5/45/45: participation (out of 10) 5, presentation 5, homework 45 with the
# lowest dropped, final project 45 (no late work). 3 free days, at most 1 on one
# assignment, 20% of the score per further day, grace 15 min, zero after 4 days.
# Homework = code (60) + written (40).
WEIGHTED = {
    # S001: hw1 code 30:00:00 late -> (30h - 15min) / 24h rounded up = 2 days, 1 free (the
    # cap), 1 charged: 60 x 0.8 = 48, + 40 = 88%. hw2 both parts 0:10:00 late: inside
    # the grace, 80%. hw3 written 2:00:00 late -> 1 day, covered: 80%. hw4 60%, dropped.
    # Homework (88 + 80 + 80) / 3 = 82.667%. Final 5 x 1.0 + 5 x 0.8 + 45 x 0.82667
    # + 45 x 0.9 = 5 + 4 + 37.2 + 40.5 = 86.7 -> B. Days used: 2 (one left over).
    "S001": (86.7, "B", 2),
    # S002: all four homeworks 1 day late, 3 free days for 4: first come (hw1-hw3) would
    # give kept 100, 90, 56 = 82%; the best placement covers hw1, hw3, hw4 and lets
    # hw2 (50 -> 40) be the dropped one: (100 + 90 + 70) / 3 = 86.667%. Final 5 x 0.8
    # + 5 x 1.0 + 45 x 0.86667 + 45 x 1.0 = 4 + 5 + 39 + 45 = 93 -> A.
    "S002": (93.0, "A", 3),
    # S003: hw4 code 130:00:00 late = 6 days > 4: 0, so hw4 = 40% and is dropped; the
    # final project 0:20:00 late is past the grace and takes no late work: 0. Final
    # 5 x 1.0 + 5 x 0.9 + 45 x 1.0 + 45 x 0 = 54.5 -> F.
    "S003": (54.5, "F", 0),
    # S004: 2-day extension on hw2: code 40:00:00 late is on time, written 49:00:00 ->
    # 49h - 48h - 15min -> 1 day, covered by a free day: 100%. hw1 0:14:59 late is inside
    # the grace: 80%. hw3 70% dropped, hw4 90%. Homework (80 + 100 + 90) / 3 = 90%.
    # Final 4.5 + 3.5 + 40.5 + 36 = 84.5 -> B.
    "S004": (84.5, "B", 1),
    # 00042 (leading zeros kept): hw1 excused; no row in the hw3 written export: Missing,
    # so hw3 = 45%, dropped among hw2-hw4: (100 + 95) / 2 = 97.5%. Final 3.5 + 5
    # + 43.875 + 39.6 = 91.975 -> A.
    "00042": (91.975, "A", 0),
    # S006: the GPU container's hw2 total 55 replaces Gradescope's 10: hw2 = 90%. hw3
    # written not graded yet: hw3 = 60%, dropped. Homework (100 + 90 + 80) / 3 = 90%.
    # Final 5 + 4 + 40.5 + 38.25 = 87.75 -> B.
    "S006": (87.75, "B", 0),
}

# Points, Pass/Distinction/Fail: attendance 6, problem sets 3 x 4 = 12 (code 6 + written
# 4 on Gradescope), mini project 4 (20 on Gradescope): 22 points. Pass: 18 and 4
# attendance points; Distinction: 20 and 3 project points. 2 free days, at most 2 on one
# assignment, 25% of the part's points per further day, grace 5 min, zero after 3 days.
PASS_DISTINCTION = {
    # P01: everything: 6 + 12 + 4 = 22 -> Distinction.
    "P01": (22.0, "Distinction", 0),
    # P02: 3 + 12 + 4 = 19 points, but attendance 3 < 4 -> Fail.
    "P02": (19.0, "Fail", 0),
    # P03: ps1 code 50:00:00 late = 3 days (a day saves 1.5 of 6 Gradescope points =
    # 0.6 course points); ps2 10:00:00 late = 1 day on both parts (a day saves 1.5 + 1
    # of 10 = 1.0 course point); project 1:00:00 late = 1 day (saves 5 of 20 = 1.0).
    # Best: ps2 and the project: ps1 (6 - 4.5 + 4) / 10 x 4 = 2.2, ps2 3.2, ps3 4,
    # project 3.2, attendance 6: 18.6 -> Pass. (Both days on ps1: 17.8 -> Fail.)
    "P03": (18.6, "Pass", 2),
    # P04: ps3 Missing on both parts: 6 + 8 + 4 = 18, exactly the pass mark -> Pass.
    "P04": (18.0, "Pass", 0),
    # P05: project 12 / 20 = 2.4 points: 6 + 12 + 2.4 = 20.4 >= 20, but 2.4 < 3 -> Pass.
    "P05": (20.4, "Pass", 0),
}

# Presentation 50% + exam 50% (no late work), from the gradebook export alone.
PRESENTATION_EXAM = {
    "Q1": (90.0, "A", 0),  # 18/20 and 45/50: 45 + 45
    "Q2": (76.0, "C", 0),  # presentation 1 s late = 1 day: 16 x 0.9 = 14.4/20 -> 36, + 40
    "Q3": (50.0, "F", 0),  # no exam (blank in the gradebook: Missing): 50 + 0
    "Q4": (47.5, "F", 0),  # exam 0:05:00 late, no late work, no grace: 0; 19/20 -> 47.5
}


@pytest.mark.parametrize(
    ("scheme", "expected", "final_column"),
    [
        ("weighted_5_5_45_45", WEIGHTED, "Final (%)"),
        ("pass_distinction_fail", PASS_DISTINCTION, "Final (points of 22)"),
        ("presentation_exam", PRESENTATION_EXAM, "Final (%)"),
    ],
)
def test_hand_computed_grades(tmp_path, scheme, expected, final_column):
    course = scheme_course(scheme)
    assert run_grades(course, course.parent / "inputs", tmp_path) == 0
    table = final_grades(tmp_path)
    assert sorted(table.index) == sorted(expected)
    late_column = next(c for c in table.columns if c.startswith("Late "))
    for sid, (final, grade, late_days) in expected.items():
        row = table.loc[sid]
        assert row[final_column] == pytest.approx(final, abs=1e-6), sid
        assert row["Grade"] == grade, sid
        assert row[late_column] == late_days, sid


def test_reports_render_with_the_arithmetic(tmp_path):
    course = scheme_course("weighted_5_5_45_45")
    assert run_grades(course, course.parent / "inputs", tmp_path) == 0
    report = (tmp_path / "reports" / "S002.md").read_text()
    assert "Spent: hw1: 1, hw3: 1, hw4: 1. Left: 0." in report
    assert "30 x (1 - 1 x 20%) = 24.00" in report  # hw2 code, the uncovered day
    assert "hw2 40.00% of 100 (dropped)" in report
    assert "= 93.00%" in report
    html = (tmp_path / "reports" / "S002.html").read_text()
    assert html.startswith("<!doctype html>") and "<table>" in html
    assert "the Gradescope score was 10" in (tmp_path / "reports" / "S006.md").read_text()
    png = (tmp_path / "grade_distribution.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (tmp_path / "summary.md").read_text()
    assert "| A | 2 |" in summary and "| B | 3 |" in summary and "| F | 1 |" in summary
    assert "no row for 'Homework 3 (Written)': counted as Missing" in summary
    ledger = (tmp_path / "late_day_ledger.csv").read_text().splitlines()
    assert ledger[0].startswith("SID,Assignment,Late days,Extension days,Free days spent")
    s002 = sorted(
        line.split(",")[1] + ":" + line.split(",")[4] for line in ledger if line.startswith("S002,")
    )
    assert s002 == ["hw1:1", "hw2:0", "hw3:1", "hw4:1"]
    registrar = (tmp_path / "registrar_upload.csv").read_text().splitlines()
    assert registrar[0] == "Student ID,Student Name,Final Grade"
    assert len(registrar) == 1 + len(WEIGHTED)


def test_near_cutoff_lists_who_is_just_below(tmp_path):
    course = scheme_course("weighted_5_5_45_45")
    assert run_grades(course, course.parent / "inputs", tmp_path, "--near", "3.5") == 0
    summary = (tmp_path / "summary.md").read_text()
    near = summary.split("## Near a cutoff")[1].split("##")[0]
    # 86.7 and 87.75 are within 3.5 of A's 90; 84.5 is not; 93 and 91.975 are above.
    assert "| S001 |" in near and "| S006 |" in near
    assert "S004" not in near and "S002" not in near


def test_what_if_a_pending_score_arrives(tmp_path, capsys):
    course = scheme_course("weighted_5_5_45_45")
    inputs = course.parent / "inputs"
    assert run_grades(course, inputs, tmp_path, "--what-if", "hw3:written=max") == 0
    out = capsys.readouterr().out
    # S006's hw3 written is the only pending score; 40/40 makes hw3 100%, hw4 (80%) is
    # dropped instead: homework (100 + 90 + 100) / 3 = 96.667%, final 5 + 4 + 43.5
    # + 38.25 = 90.75 -> A.
    assert "1 pending student(s)" in out
    assert "S006: 87.75% B -> 90.75% A" in out
    assert run_grades(course, inputs, tmp_path, "--what-if", "Homework 3 (Written)=50%") == 0
    # 20/40: hw3 = 80%, drop hw3 or hw4 (both 80%): (100 + 90 + 80) / 3 = 90%, unchanged.
    assert "S006: 87.75% B -> 87.75% B" in capsys.readouterr().out
    assert run_grades(course, inputs, tmp_path, "--what-if", "hw9:code=1") == 1
    assert "no part 'hw9:code'" in capsys.readouterr().err
