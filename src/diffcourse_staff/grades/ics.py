"""The course calendar (.ics) from the course file, for the site's schedule page.

Events, with times in the course's time zone (a VTIMEZONE is included):
- each lecture of `lectures:` on its date, at the time and place of the "Lecture" meeting;
- every other meeting (recitations...) as a weekly event from the first such day of term
  to the last;
- each assignment's release and due time (whatever `assignments:` lists: problem sets,
  projects, milestones, exams);
- the first and last day of term (all-day).

UIDs are stable (kind, id and course), so a calendar app that subscribed updates the
events in place when the course file changes. DTSTAMP is SOURCE_DATE_EPOCH when set
(reproducible builds), else the time of the build.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

from diffcourse_staff.course import WEEKDAYS, Course, CourseFileError

CALENDAR_URI = "calendar.ics"
TIME_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _times(course: Course, index: int) -> tuple[dt.time, dt.time]:
    m = TIME_RANGE.match(course.meetings[index].time)
    if not m:
        raise CourseFileError(
            course.path,
            f"course.meetings[{index}].time",
            f"the calendar needs HH:MM-HH:MM, got {course.meetings[index].time!r}",
        )
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    return dt.time(h1, m1), dt.time(h2, m2)


def _stamp() -> dt.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def build_calendar(course: Course) -> icalendar.Calendar:
    try:
        tz = ZoneInfo(course.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseFileError(
            course.path, "course.timezone", f"unknown time zone {course.timezone!r}"
        ) from None
    domain = f"{_slug(course.code)}.{_slug(course.term)}"
    stamp = _stamp()
    cal = icalendar.Calendar()
    cal.add("prodid", "-//diffcourse//course calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{course.code} {course.term}")
    cal.add("x-wr-timezone", course.timezone)

    def event(uid: str, summary: str, start, end=None, location=None, description=None):
        ev = icalendar.Event()
        ev.add("uid", f"{uid}@{domain}")
        ev.add("dtstamp", stamp)
        ev.add("summary", summary)
        ev.add("dtstart", start)
        if end is not None:
            ev.add("dtend", end)
        if location:
            ev.add("location", location)
        if description:
            ev.add("description", description)
        cal.add_component(ev)
        return ev

    lecture_meeting = next(
        (i for i, m in enumerate(course.meetings) if m.kind.lower() == "lecture"), None
    )
    for n, lec in enumerate(course.lectures, 1):
        title = f"{course.code} Lecture {n}: {lec.title}"
        topics = "Topics: " + "; ".join(lec.topics)
        if lecture_meeting is None:
            event(f"lecture-{lec.id}", title, lec.date, description=topics)
            continue
        begin, end = _times(course, lecture_meeting)
        event(
            f"lecture-{lec.id}",
            title,
            dt.datetime.combine(lec.date, begin, tz),
            dt.datetime.combine(lec.date, end, tz),
            course.meetings[lecture_meeting].place,
            topics,
        )

    for i, m in enumerate(course.meetings):
        if i == lecture_meeting and course.lectures:
            continue  # the lectures are listed one by one above
        begin, end = _times(course, i)
        days = sorted(WEEKDAYS.index(d) for d in m.days)
        first = course.start
        while first.weekday() not in days:
            first += dt.timedelta(days=1)
        until = dt.datetime.combine(course.end, dt.time(23, 59, 59), tz).astimezone(dt.timezone.utc)
        ev = event(
            f"meeting-{i}-{_slug(m.kind)}",
            f"{course.code} {m.kind}",
            dt.datetime.combine(first, begin, tz),
            dt.datetime.combine(first, end, tz),
            m.place,
        )
        ev.add("rrule", {"freq": "weekly", "byday": [ICAL_DAYS[d] for d in days], "until": until})

    for a in course.assignments:
        event(
            f"release-{a.id}",
            f"{course.code} released: {a.title}",
            a.release.replace(tzinfo=tz),
            description=f"Due {a.due:%a %d %b %Y, %H:%M} ({course.timezone}); {a.points} points.",
        )
        event(
            f"due-{a.id}",
            f"{course.code} due: {a.title}",
            a.due.replace(tzinfo=tz),
            description=f"Submit on Gradescope by {a.due:%H:%M} ({course.timezone}).",
        )
        for m in a.milestones:
            if m.due == a.due:  # the final milestone is the assignment's own due event
                continue
            event(
                f"due-{a.id}-{m.id}",
                f"{course.code} due: {a.title}, {m.title}",
                m.due.replace(tzinfo=tz),
                description=f"{m.deliverable} ({m.points} points of {a.points}).",
            )

    event("term-start", f"{course.code}: first day of term", course.start)
    event("term-end", f"{course.code}: last day of term", course.end)
    # The zone's rules for the term only (a few lines instead of 1970-2038).
    cal.add_missing_timezones(
        first_date=dt.date(course.start.year, 1, 1), last_date=dt.date(course.end.year + 1, 1, 1)
    )
    return cal


def calendar_bytes(course: Course) -> bytes:
    return build_calendar(course).to_ical()
