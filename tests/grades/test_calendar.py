"""The course calendar parses as iCalendar and holds every dated event of the course file,
at the right local time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
from grades_helpers import SCHEMES

from diffcourse_staff.course import DEFAULT_COURSE_FILE, load_course
from diffcourse_staff.grades.ics import calendar_bytes


def events(course):
    cal = icalendar.Calendar.from_ical(calendar_bytes(course))
    return cal, [c for c in cal.walk("VEVENT")]


def by_uid(evs):
    return {str(e["uid"]).split("@")[0]: e for e in evs}


def test_every_lecture_release_and_due_date_at_local_time():
    course = load_course(DEFAULT_COURSE_FILE)
    tz = ZoneInfo(course.timezone)
    cal, evs = events(course)
    assert [str(c["tzid"]) for c in cal.walk("VTIMEZONE")] == [course.timezone]
    uids = [str(e["uid"]) for e in evs]
    assert len(uids) == len(set(uids))
    found = by_uid(evs)
    lecture = next(m for m in course.meetings if m.kind == "Lecture")
    begin, end = lecture.time.split("-")
    for lec in course.lectures:
        e = found[f"lecture-{lec.id}"]
        start = e.decoded("dtstart")
        assert start == dt.datetime.combine(lec.date, dt.time.fromisoformat(begin), tz)
        assert e.decoded("dtend") == dt.datetime.combine(lec.date, dt.time.fromisoformat(end), tz)
        assert lec.title in str(e["summary"]) and str(e["location"]) == lecture.place
    for a in course.assignments:
        release, due = found[f"release-{a.id}"], found[f"due-{a.id}"]
        assert release.decoded("dtstart") == a.release.replace(tzinfo=tz)
        assert due.decoded("dtstart") == a.due.replace(tzinfo=tz)
        assert a.title in str(due["summary"])
        for m in a.milestones:  # every milestone is on the calendar, the final one as `due-<id>`
            uid = f"due-{a.id}" if m.due == a.due else f"due-{a.id}-{m.id}"
            assert found[uid].decoded("dtstart") == m.due.replace(tzinfo=tz)
    assert any(a.milestones for a in course.assignments), "the course file lists milestones"
    # Due at 23:59 New York time in February is 04:59 UTC the next day.
    ps1 = found["due-ps1"].decoded("dtstart").astimezone(dt.timezone.utc)
    assert (ps1.hour, ps1.minute) == (4, 59)
    assert found["term-start"].decoded("dtstart") == course.start


def test_recitations_repeat_weekly_through_the_term():
    course = load_course(DEFAULT_COURSE_FILE)
    _, evs = events(course)
    (rec,) = [
        e for e in evs if str(e["uid"]).startswith("meeting-") and "Recitation" in str(e["summary"])
    ]
    start = rec.decoded("dtstart")
    assert start.strftime("%a") == "Fri" and start.date() >= course.start
    assert (start.date() - course.start).days < 7
    rule = rec["rrule"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["FR"]
    assert rule["UNTIL"][0].date() in (course.end, course.end + dt.timedelta(days=1))


def test_a_course_without_lectures_still_gets_its_meetings_and_dates():
    course = load_course(SCHEMES / "presentation_exam" / "course.yml")
    _, evs = events(course)
    found = by_uid(evs)
    assert {"release-presentation", "due-presentation", "release-exam", "due-exam"} <= set(found)
    lectures = found["meeting-0-lecture"]
    assert lectures["rrule"]["BYDAY"] == ["TU", "TH"]
