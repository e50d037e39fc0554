"""The course file loader refuses every kind of bad course file, naming file and key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from diffcourse_staff.course import DEFAULT_COURSE_FILE, CourseFileError, load_course


def _valid_course(root: Path) -> dict:
    """A small but complete course file whose referenced files exist under root."""
    (root / "notes").mkdir()
    (root / "notes" / "l1.md").write_text("# L1\n")
    (root / "hw").mkdir()
    (root / "hw" / "hw1.ipynb").write_text("{}")
    return {
        "course": {
            "code": "T 1",
            "title": "Test course",
            "term": "Spring 2027",
            "timezone": "UTC",
            "start": "2027-01-10",
            "end": "2027-05-01",
            "description": "A course.",
            "meetings": [{"kind": "Lecture", "days": ["Mon"], "time": "10-11", "place": "A"}],
        },
        "staff": [{"name": "A", "role": "Instructor", "email": "a@b.c", "office_hours": "Mon"}],
        "lectures": [
            {
                "id": "L1",
                "date": "2027-01-11",
                "title": "One",
                "notes": "notes/l1.md",
                "topics": ["x"],
            },
        ],
        "assignments": [
            {
                "id": "hw1",
                "title": "HW 1",
                "kind": "problem_set",
                "notebook": "hw/hw1.ipynb",
                "release": "2027-01-12T17:00",
                "due": "2027-01-19T23:59",
                "points": 10,
            },
            {
                "id": "proj",
                "title": "Project",
                "kind": "project",
                "release": "2027-02-01T17:00",
                "due": "2027-03-01T23:59",
                "points": 100,
            },
        ],
        "grading": {
            "components": [
                {"name": "Homework", "weight": 70, "assignments": ["hw1"]},
                {"name": "Project", "weight": 30, "assignments": ["proj"]},
            ],
            "letter_cutoffs": {"A": 90},
        },
        "late_policy": {
            "free_late_days": 2,
            "max_late_days_per_assignment": 1,
            "penalty_percent_per_day": 20,
            "unit": "day",
        },
        "policies": {
            "collaboration": "c",
            "ai_use": "a",
            "regrades": "within {regrade_window_days} days",
            "regrade_window_days": 5,
        },
    }


def _write(root: Path, data: dict) -> Path:
    path = root / "course.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_valid_file_loads_with_typed_values(tmp_path):
    course = load_course(_write(tmp_path, _valid_course(tmp_path)))
    hw1 = course.assignment("hw1")
    assert hw1.due == dt.datetime(2027, 1, 19, 23, 59)
    assert hw1.points == 10 and hw1.cell_timeout == 120 and hw1.is_notebook
    assert not course.assignment("proj").is_notebook
    assert [a.id for a in course.notebook_assignments] == ["hw1"]
    assert course.policy_text("regrades") == "within 5 days"
    with pytest.raises(KeyError, match="unknown assignment id 'nope'"):
        course.assignment("nope")


def _break(mutate):
    def apply(root):
        data = _valid_course(root)
        mutate(data)
        return data

    return apply


CASES = {
    "bad date": (
        _break(lambda d: d["lectures"][0].update(date="2027-02-30")),
        "lectures[0].date",
        "not a valid date",
    ),
    "missing field": (
        _break(lambda d: d["assignments"][0].pop("due")),
        "assignments[0]",
        "missing required key(s): due",
    ),
    "misspelled key": (
        _break(lambda d: d["assignments"][0].update(pionts=3)),
        "assignments[0]",
        "unknown key(s): pionts",
    ),
    "unknown assignment id": (
        _break(lambda d: d["grading"]["components"][0].update(assignments=["hw2"])),
        "grading.components[0].assignments[0]",
        "unknown assignment id 'hw2'",
    ),
    "duplicate id": (
        _break(lambda d: d["assignments"][1].update(id="hw1")),
        "assignments[1].id",
        "duplicate id 'hw1'",
    ),
    "due before release": (
        _break(lambda d: d["assignments"][0].update(due="2027-01-01T10:00")),
        "assignments[0].due",
        "not after the release date",
    ),
    "weights not 100": (
        _break(lambda d: d["grading"]["components"][0].update(weight=60)),
        "grading.components",
        "add up to 90",
    ),
    "missing notebook file": (
        _break(lambda d: d["assignments"][0].update(notebook="x.ipynb")),
        "assignments[0].notebook",
        "no such file",
    ),
    "negative points": (
        _break(lambda d: d["assignments"][0].update(points=-1)),
        "assignments[0].points",
        "at least 1",
    ),
    "due without time": (
        _break(lambda d: d["assignments"][0].update(due="2027-01-20")),
        "assignments[0].due",
        "needs a time",
    ),
    "unknown weekday": (
        _break(lambda d: d["course"]["meetings"][0].update(days=["Mon", "Tu"])),
        "course.meetings[0].days[1]",
        "unknown weekday",
    ),
    "unknown time zone": (
        _break(lambda d: d["course"].update(timezone="Mars/Olympus_Mons")),
        "course.timezone",
        "unknown time zone 'Mars/Olympus_Mons'",
    ),
    "assignment not graded": (
        _break(lambda d: d["grading"]["components"][1].update(assignments=[])),
        "grading.components",
        "'proj' counts 0 times",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_course_file_names_file_key_and_problem(tmp_path, case):
    make, key, problem = CASES[case]
    path = _write(tmp_path, make(tmp_path))
    with pytest.raises(CourseFileError) as err:
        load_course(path)
    assert err.value.key == key
    assert problem in err.value.problem
    assert str(path) in str(err.value)


def test_invalid_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "course.yml"
    bad.write_text("course: [unclosed\n")
    with pytest.raises(CourseFileError, match="not valid YAML"):
        load_course(bad)
    with pytest.raises(CourseFileError, match="not found"):
        load_course(tmp_path / "absent.yml")


def test_the_real_course_file_is_valid():
    course = load_course(DEFAULT_COURSE_FILE)
    assert {"ps1", "ps2", "ps3"} <= {a.id for a in course.notebook_assignments}
    assert course.lectures and course.staff
