"""The syllabus renders the grading scheme and the late policy from the same course data
the grade tools read; the schedule links the calendar."""

from __future__ import annotations

import dataclasses

import pytest
from grades_helpers import SCHEMES

from diffcourse_staff.course import REPO_ROOT, load_course
from diffcourse_staff.site.pages import MacroError, PageContext, expand_macros


def render(course, text, page="syllabus.md", uris=("calendar.ics",)):
    return expand_macros(text, PageContext(course, page, frozenset(uris), "stub"))


def test_weighted_scheme_rules_on_the_syllabus():
    course = load_course(SCHEMES / "weighted_5_5_45_45" / "course.yml")
    late = render(course, "{{ late_policy }}")
    assert "**3 free late days**" in late and "At most **1**" in late
    assert "**20%** of the score you earned" in late
    assert "15-minute grace period" in late
    assert "more than **4 days** late scores zero" in late
    assert "**No late work** is accepted on Final project" in late
    table = render(course, "{{ grading_table }}")
    assert "| Homework | 45% |" in table and "the lowest 1 dropped" in table
    rules = render(course, "{{ grading_rules }}")
    assert (
        rules.index("**Lateness.**") < rules.index("**Drops.**") < rules.index("**Aggregation.**")
    )
    assert "Homework: the lowest 1" in rules


def test_bands_with_component_minimums_on_the_syllabus():
    course = load_course(SCHEMES / "pass_distinction_fail" / "course.yml")
    bands = render(course, "{{ letter_table }}")
    assert "| Distinction | 20 points | Mini project at least 3 points |" in bands
    assert "| Pass | 18 points | Attendance at least 4 points |" in bands
    assert "| Fail | below 18 points |" in bands
    assert "| Attendance | 6 points |" in render(course, "{{ grading_table }}")
    assert "**25%** of that part's points" in render(course, "{{ late_policy }}")


def test_the_text_follows_the_data():
    course = load_course(SCHEMES / "weighted_5_5_45_45" / "course.yml")
    lenient = dataclasses.replace(
        course.late_policy, zero_after=None, no_late_work=(), penalty_basis="points"
    )
    text = render(dataclasses.replace(course, late_policy=lenient), "{{ late_policy }}")
    assert "scores zero" not in text and "No late work" not in text
    assert "of that part's points" in text


def test_the_schedule_links_the_calendar():
    course = load_course()
    link = render(course, "{{ calendar_link }}", page="schedule.md")
    assert "[Add the course calendar](calendar.ics)" in link
    with pytest.raises(MacroError, match="calendar.ics"):
        render(course, "{{ calendar_link }}", page="schedule.md", uris=())
    assert "{{ calendar_link }}" in (REPO_ROOT / "site" / "schedule.md").read_text()
    syllabus = (REPO_ROOT / "site" / "syllabus.md").read_text()
    assert "{{ grading_rules }}" in syllabus and "{{ late_policy }}" in syllabus
