"""The built site serves the course calendar, and the schedule page links to it."""

from __future__ import annotations

import icalendar


def test_calendar_is_served_and_linked(site_dir, course):
    ics = site_dir / "calendar.ics"
    cal = icalendar.Calendar.from_ical(ics.read_bytes())
    dues = [e for e in cal.walk("VEVENT") if str(e["uid"]).startswith("due-")]
    # one due event per assignment and per milestone that is not the assignment's own due date
    expected = sum(1 + sum(m.due != a.due for m in a.milestones) for a in course.assignments)
    assert len(dues) == expected
    schedule = (site_dir / "schedule" / "index.html").read_text(encoding="utf-8")
    assert 'href="../calendar.ics"' in schedule
    staff = (site_dir / "staff" / "grading-the-term" / "index.html").read_text(encoding="utf-8")
    assert "make grades" in staff
