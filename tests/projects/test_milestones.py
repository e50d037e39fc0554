"""Milestones of a project in course.yml: dated, pointed, coherent with the project."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from diffcourse_staff.course import CourseFileError, load_course
from tests.course.test_course_file import _valid_course

MILESTONES = [
    {"id": "proposal", "title": "P", "due": "2027-02-08T23:59", "points": 20, "deliverable": "d"},
    {"id": "final", "title": "F", "due": "2027-03-01T23:59", "points": 70, "deliverable": "d"},
    {"id": "talk", "title": "T", "due": "2027-03-05T14:00", "points": 10, "deliverable": "d"},
]


def _course(tmp_path, mutate=None):
    data = _valid_course(tmp_path)
    data["assignments"][1]["milestones"] = [dict(m) for m in MILESTONES]
    if mutate:
        mutate(data)
    path = tmp_path / "course.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_milestones_load_in_order_with_typed_dates(tmp_path):
    project = load_course(_course(tmp_path)).assignment("proj")
    assert [m.id for m in project.milestones] == ["proposal", "final", "talk"]
    assert project.milestones[1].due == dt.datetime(2027, 3, 1, 23, 59) == project.due
    assert sum(m.points for m in project.milestones) == project.points


def _set(i, **values):
    return lambda d: d["assignments"][1]["milestones"][i].update(values)


CASES = {
    "points do not add up": (_set(0, points=25), "assignments[1].milestones", "add up to 105"),
    "out of order": (_set(1, due="2027-02-07T10:00"), "milestones[1].due", "date order"),
    "before release": (_set(0, due="2027-01-30T10:00"), "milestones[0].due", "not after"),
    "after the term": (_set(2, due="2027-05-02T10:00"), "milestones[2].due", "after the term"),
    "due matches no milestone": (
        lambda d: d["assignments"][1].update(due="2027-03-02T23:59"),
        "assignments[1].due",
        "none of the milestones",
    ),
    "duplicate id": (_set(2, id="final"), "milestones[2].id", "duplicate id 'final'"),
    "misspelled key": (_set(0, pionts=3), "milestones[0]", "unknown key(s): pionts"),
    "on a problem set": (
        lambda d: d["assignments"][0].update(milestones=MILESTONES),
        "assignments[0].milestones",
        "only a project",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_milestones_are_refused_naming_the_key(tmp_path, case):
    mutate, key, problem = CASES[case]
    with pytest.raises(CourseFileError) as err:
        load_course(_course(tmp_path, mutate))
    assert key in err.value.key and problem in err.value.problem


def test_the_real_course_splits_the_project_over_its_milestones():
    project = load_course().assignment("mini_project")
    assert [m.id for m in project.milestones] == ["proposal", "checkin", "final", "presentation"]
    assert sum(m.points for m in project.milestones) == project.points
