"""Every named cross-field rule of the course file refuses its case, naming the key.

A new rule in `diffcourse_staff.course_schema` needs a case here (the first test says
which are missing). Cases break the small valid course of test_course_file in one way.
"""

from __future__ import annotations

import pytest

from diffcourse_staff.course import CourseFileError, load_course
from diffcourse_staff.course_schema import rules
from tests.course.test_course_file import _valid_course, _write


def _milestone(id_: str, due: str, points: int) -> dict:
    return {"id": id_, "title": id_, "due": due, "points": points, "deliverable": "d"}


def hw1(d):
    return d["assignments"][0]


def proj(d):
    return d["assignments"][1]


def grading(d):
    return d["grading"]


def _bands(*bands):
    def apply(d):
        del d["grading"]["letter_cutoffs"]
        d["grading"]["bands"] = list(bands)

    return apply


def _parts(**parts):
    return lambda d: d["grading"].update(parts=parts)


CASES = {
    "term_ends_after_it_starts": (
        lambda d: d["course"].update(end="2027-01-01"),
        "course.end",
        "before it starts",
    ),
    "due_after_release": (
        lambda d: hw1(d).update(due="2027-01-01T10:00"),
        "assignments[0].due",
        "is not after the release date",
    ),
    "problem_set_has_notebook": (
        lambda d: hw1(d).pop("notebook"),
        "assignments[0]",
        "a problem set needs a notebook",
    ),
    "only_projects_have_milestones": (
        lambda d: hw1(d).update(milestones=[_milestone("m", "2027-01-19T23:59", 10)]),
        "assignments[0].milestones",
        "only a project",
    ),
    "milestones_in_date_order_after_release": (
        lambda d: proj(d).update(
            milestones=[
                _milestone("a", "2027-02-10T10:00", 50),
                _milestone("b", "2027-02-09T10:00", 25),
                _milestone("final", "2027-03-01T23:59", 25),
            ]
        ),
        "assignments[1].milestones[1].due",
        "date order",
    ),
    "milestone_points_add_up": (
        lambda d: proj(d).update(milestones=[_milestone("final", "2027-03-01T23:59", 90)]),
        "assignments[1].milestones",
        "add up to 90, not the project's 100",
    ),
    "due_is_a_milestone": (
        lambda d: proj(d).update(milestones=[_milestone("final", "2027-02-28T23:59", 100)]),
        "assignments[1].due",
        "none of the milestones",
    ),
    "question_timeout_covers_call_timeout": (
        lambda d: hw1(d).update(call_timeout=60, question_timeout=30),
        "assignments[0].question_timeout",
        "at least call_timeout",
    ),
    "drop_lowest_keeps_one": (
        lambda d: grading(d)["components"][0].update(drop_lowest=1),
        "grading.components[0].drop_lowest",
        "keep at least one",
    ),
    "own_points_only_without_assignments": (
        lambda d: grading(d)["components"][0].update(points=5),
        "grading.components[0].points",
        "only a component without assignments",
    ),
    "gradescope_or_container": (
        _parts(hw1=[{"part": "code"}]),
        "grading.parts.hw1[0]",
        "either gradescope",
    ),
    "has_components": (
        lambda d: grading(d).update(components=[]),
        "grading.components",
        "non-empty list of components",
    ),
    "weights_given_unless_points": (
        lambda d: grading(d)["components"][0].pop("weight"),
        "grading.components[0]",
        "missing required key(s): weight",
    ),
    "component_names_unique": (
        lambda d: grading(d)["components"][1].update(name="Homework"),
        "grading.components[1].name",
        "duplicate component name 'Homework'",
    ),
    "weights_add_up_to_100": (
        lambda d: grading(d)["components"][0].update(weight=60),
        "grading.components",
        "weights add up to 90, not 100",
    ),
    "one_kind_of_grade_bands": (
        lambda d: grading(d).update(bands=[{"grade": "P", "minimum": 50}]),
        "grading",
        "exactly one of letter_cutoffs",
    ),
    "bands_best_first": (
        _bands({"grade": "P", "minimum": 50}, {"grade": "D", "minimum": 80}),
        "grading.bands[1].minimum",
        "best first",
    ),
    "band_minimums_name_components": (
        _bands({"grade": "P", "minimum": 50, "component_minimums": {"Quizzes": 1}}),
        "grading.bands[0].component_minimums",
        "unknown component 'Quizzes'",
    ),
    "parts_replace_within_their_assignment": (
        _parts(hw1=[{"part": "code", "gradescope": "X"}, {"part": "gpu", "container": True}]),
        "grading.parts.hw1[1].replaces",
        "replace a Gradescope part",
    ),
    "has_staff": (lambda d: d.update(staff=[]), "staff", "at least one staff member"),
    "lectures_inside_the_term": (
        lambda d: d["lectures"][0].update(date="2027-06-01"),
        "lectures[0].date",
        "outside the term",
    ),
    "lecture_notes_exist": (
        lambda d: d["lectures"][0].update(notes="notes/none.md"),
        "lectures[0].notes",
        "no such file: notes/none.md",
    ),
    "lectures_unique_in_date_order": (
        lambda d: d["lectures"].append(dict(d["lectures"][0], date="2027-01-12")),
        "lectures[1].id",
        "duplicate id 'L1'",
    ),
    "assignment_ids_unique": (
        lambda d: proj(d).update(id="hw1"),
        "assignments[1].id",
        "duplicate id 'hw1'",
    ),
    "assignments_inside_the_term": (
        lambda d: hw1(d).update(release="2026-12-01T10:00"),
        "assignments[0].release",
        "outside the term",
    ),
    "notebooks_exist": (
        lambda d: hw1(d).update(notebook="hw/none.ipynb"),
        "assignments[0].notebook",
        "no such file: hw/none.ipynb",
    ),
    "components_name_known_assignments": (
        lambda d: grading(d)["components"][0].update(assignments=["hw2"]),
        "grading.components[0].assignments[0]",
        "unknown assignment id 'hw2'",
    ),
    "every_assignment_counted_once": (
        lambda d: grading(d)["components"][1].update(assignments=["proj", "hw1"]),
        "grading.components",
        "'hw1' counts 2 times",
    ),
    "bands_reachable": (
        lambda d: grading(d).update(letter_cutoffs={"A": 120}),
        "grading",
        "needs 120, more than the total 100",
    ),
    "parts_name_known_assignments": (
        _parts(hw9=[{"part": "code", "gradescope": "X"}]),
        "grading.parts.hw9",
        "unknown assignment id 'hw9'",
    ),
    "gradescope_names_unique": (
        _parts(hw1=[{"part": "code", "gradescope": "Project"}]),
        "grading.parts.hw1[0].gradescope",
        "'Project' is already used by assignments[proj].title",
    ),
    "no_late_work_names_known_assignments": (
        lambda d: d["late_policy"].update(no_late_work=["exam"]),
        "late_policy.no_late_work[0]",
        "unknown assignment id 'exam'",
    ),
}


def test_every_rule_has_a_case():
    named = [name for names in rules().values() for name in names]
    assert sorted(named) == sorted(CASES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_refuses_its_case_at_its_key(tmp_path, rule):
    mutate, key, problem = CASES[rule]
    data = _valid_course(tmp_path)
    mutate(data)
    with pytest.raises(CourseFileError) as err:
        load_course(_write(tmp_path, data))
    assert (err.value.key, err.value.others) == (key, ())
    assert problem in err.value.problem
