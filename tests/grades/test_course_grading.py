"""The course file's grading and late_policy sections: every mistake is refused with its key."""

from __future__ import annotations

import copy

import pytest
import yaml
from grades_helpers import SCHEMES

from diffcourse_staff.course import DEFAULT_COURSE_FILE, CourseFileError, load_course

BASE = yaml.safe_load((SCHEMES / "weighted_5_5_45_45" / "course.yml").read_text())
BANDS = yaml.safe_load((SCHEMES / "pass_distinction_fail" / "course.yml").read_text())


def load(tmp_path, data):
    (tmp_path / "placeholder.ipynb").write_text("{}")
    path = tmp_path / "c" / "course.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_course(path)


def test_the_course_and_the_examples_load():
    course = load_course(DEFAULT_COURSE_FILE)
    assert [p.part for p in course.grading_scheme.parts_of("ps1")] == ["code", "written", "gpu"]
    # An assignment not listed under parts is one Gradescope assignment named after its title.
    (part,) = course.grading_scheme.parts_of("mini_project")
    assert part.gradescope == course.assignment("mini_project").title
    for name in ("weighted_5_5_45_45", "pass_distinction_fail", "presentation_exam"):
        load_course(SCHEMES / name / "course.yml")


def test_points_scheme_defaults_to_raw_points():
    course = load_course(SCHEMES / "pass_distinction_fail" / "course.yml")
    assert [c.weight for c in course.grading] == [6, 12, 4]
    assert course.grading_scheme.bands[0].component_minimums == (("Mini project", 3),)


def _set(data, path, value):
    *head, last = path
    for key in head:
        data = data[key]
    if value is KeyError:
        del data[last]
    else:
        data[last] = value


@pytest.mark.parametrize(
    ("base", "path", "value", "key", "problem"),
    [
        (BASE, ["grading", "components", 0, "weight"], 6, "grading.components", "add up to 101"),
        (BASE, ["grading", "components", 2, "drop_lowest"], 4, "drop_lowest", "keep at least one"),
        (
            BASE,
            ["grading", "components", 2, "points"],
            5,
            "components[2].points",
            "only a component",
        ),
        (BASE, ["grading", "components", 2, "name"], "Participation", "name", "duplicate"),
        (BASE, ["grading", "scheme"], "curve", "grading.scheme", "unknown scheme"),
        (BASE, ["grading", "bands"], [], "grading", "exactly one of"),
        (BASE, ["grading", "letter_cutoffs", "A"], 120, "grading", "more than the total"),
        (BASE, ["grading", "parts", "hw9"], [], "grading.parts.hw9", "unknown assignment"),
        (BASE, ["grading", "parts", "hw2", 2, "replaces"], "nothing", "replaces", "no other part"),
        (BASE, ["grading", "parts", "hw2", 2, "replaces"], KeyError, "replaces", "replace a"),
        (BASE, ["grading", "parts", "hw1", 1, "part"], "code", "part", "duplicate part"),
        (
            BASE,
            ["grading", "parts", "hw1", 1, "gradescope"],
            "Homework 1 (Code)",
            "gradescope",
            "already used",
        ),
        (BASE, ["grading", "parts", "hw1", 0, "container"], True, "hw1[0]", "either gradescope"),
        (BASE, ["late_policy", "unit"], "week", "late_policy.unit", "unknown unit"),
        (BASE, ["late_policy", "penalty_basis"], "grade", "penalty_basis", "unknown basis"),
        (BASE, ["late_policy", "no_late_work"], ["exam"], "no_late_work[0]", "unknown"),
        (BASE, ["late_policy", "zero_after"], -1, "late_policy.zero_after", "at least 0"),
        (
            BANDS,
            ["grading", "bands", 0, "component_minimums"],
            {"Quizzes": 1},
            "component_minimums",
            "unknown component 'Quizzes'",
        ),
        (BANDS, ["grading", "bands", 1, "minimum"], 21, "bands[1].minimum", "best first"),
    ],
)
def test_mistakes_are_named(tmp_path, base, path, value, key, problem):
    data = copy.deepcopy(base)
    _set(data, path, value)
    with pytest.raises(CourseFileError) as e:
        load(tmp_path, data)
    assert key in e.value.key and problem in e.value.problem, str(e.value)
