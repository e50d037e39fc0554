"""The schedule's tags (the week-by-week table, the lists of assignments and lectures)
and the line under each lecture's title."""

from __future__ import annotations

import datetime as dt

from diffcourse_staff.course import Course
from diffcourse_staff.site.page_context import (
    MacroError,
    PageContext,
    assignment_ref,
    escape_cell,
    fmt_date,
    fmt_datetime,
    fmt_short,
    lecture_uri,
)


def _week(course: Course, d: dt.date) -> int:
    first_monday = course.start - dt.timedelta(days=course.start.weekday())
    return (d - first_monday).days // 7 + 1


def schedule_table(ctx: PageContext) -> str:
    """Every dated event of the term in order: lectures, releases, due dates, term dates."""
    c = ctx.course
    events: list[tuple[dt.datetime, int, str, str]] = []  # (when, order, what, details)
    events.append((dt.datetime.combine(c.start, dt.time(0, 0)), 0, "**Term starts**", ""))
    for n, lec in enumerate(c.lectures, 1):
        title = f"[{escape_cell(lec.title)}]({ctx.link(lecture_uri(lec.notes))})"
        topics = escape_cell("; ".join(lec.topics))
        when = dt.datetime.combine(lec.date, dt.time(12, 0))
        events.append((when, 1, f"Lecture {n}: {title}", topics))
    for a in c.assignments:
        ref = assignment_ref(ctx, a)
        events.append(
            (a.release, 2, f"**Released:** {ref}", f"due {fmt_datetime(a.due)}, {a.points} points")
        )
        events.append(
            (a.due, 3, f"**Due {a.due:%H:%M}:** {ref}", f"released {fmt_short(a.release)}")
        )
        for m in a.milestones:
            if m.due != a.due:  # the final hand-in is the row above
                what = f"**Milestone:** {ref}: {escape_cell(m.title)}"
                events.append((m.due, 3, what, f"due {m.due:%H:%M}, {m.points} points"))
    events.append((dt.datetime.combine(c.end, dt.time(23, 59)), 4, "**Term ends**", ""))
    events.sort(key=lambda e: (e[0], e[1]))

    rows = ["| Week | Date | What | Details |", "| ---: | --- | --- | --- |"]
    last_week = None
    for when, _, what, details in events:
        week = _week(c, when.date())
        week_cell = str(week) if week != last_week else ""
        last_week = week
        rows.append(f"| {week_cell} | {fmt_short(when.date())} | {what} | {details} |")
    return "\n".join(rows)


def assignment_list(ctx: PageContext) -> str:
    rows = ["| Assignment | Released | Due | Points |", "| --- | --- | --- | ---: |"]
    for a in ctx.course.assignments:
        rows.append(
            f"| {assignment_ref(ctx, a)} | {fmt_datetime(a.release)} | {fmt_datetime(a.due)}"
            f" | {a.points} |"
        )
    return "\n".join(rows)


def lecture_list(ctx: PageContext) -> str:
    lines = []
    for n, lec in enumerate(ctx.course.lectures, 1):
        lines.append(
            f"{n}. [{lec.title}]({ctx.link(lecture_uri(lec.notes))}) ({fmt_short(lec.date)})"
        )
    return "\n".join(lines)


def lecture_header(course: Course, notes: str) -> str:
    """The line under a lecture's title: its number, date and topics (from the course file)."""
    for n, lec in enumerate(course.lectures, 1):
        if lec.notes == notes:
            topics = "; ".join(lec.topics)
            return (
                f'<p class="lecture-meta">Lecture {n} of {len(course.lectures)} &middot; '
                f"{fmt_date(lec.date)} &middot; Topics: {topics}</p>"
            )
    raise MacroError(f"{notes} is not the notes of any lecture in the course file")
