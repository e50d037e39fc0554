"""The syllabus's tags: course values, objectives, meetings, grading, late policy, staff."""

from __future__ import annotations

from diffcourse_staff.course import Course
from diffcourse_staff.site.page_context import (
    MacroError,
    PageContext,
    assignment_ref,
    fmt_date,
)


def course_value(course: Course, name: str) -> str:
    values = {
        "code": course.code,
        "title": course.title,
        "term": course.term,
        "timezone": course.timezone,
        "description": course.description,
        "audience": course.audience,
        "start": fmt_date(course.start),
        "end": fmt_date(course.end),
    }
    if name not in values:
        raise MacroError(f"unknown course value {name!r} (known: {', '.join(values)})")
    return values[name]


def objectives(ctx: PageContext) -> str:
    return "\n".join(f"{i}. {o}" for i, o in enumerate(ctx.course.objectives, 1))


def prerequisites(ctx: PageContext) -> str:
    return "\n".join(f"- {p}" for p in ctx.course.prerequisites)


def meetings(ctx: PageContext) -> str:
    rows = ["| Meeting | Days | Time | Place |", "| --- | --- | --- | --- |"]
    for m in ctx.course.meetings:
        rows.append(f"| {m.kind} | {', '.join(m.days)} | {m.time} | {m.place} |")
    return "\n".join(rows)


def _scheme_unit(course: Course) -> str:
    return "%" if course.grading_scheme.scheme == "percent" else " points"


def grading_table(ctx: PageContext) -> str:
    c = ctx.course
    header = "Weight" if c.grading_scheme.scheme == "percent" else "Points"
    rows = [f"| Component | {header} | What counts |", "| --- | ---: | --- |"]
    for comp in c.grading:
        parts = []
        for aid in comp.assignments:
            a = c.assignment(aid)
            parts.append(f"{assignment_ref(ctx, a)} ({a.points} points)")
        what = (
            ", ".join(parts) if parts else "attendance and engagement in lectures and recitations"
        )
        if comp.drop_lowest:
            what += f"; the lowest {comp.drop_lowest} dropped"
        rows.append(f"| {comp.name} | {comp.weight:g}{_scheme_unit(c)} | {what} |")
    return "\n".join(rows)


def letter_table(ctx: PageContext) -> str:
    """The grades (letters, or bands such as Pass and Distinction) and what each takes."""
    scheme, unit = ctx.course.grading_scheme, _scheme_unit(ctx.course)
    minimums = any(b.component_minimums for b in scheme.bands)
    name = "Letter" if scheme.below == "F" else "Grade"
    what = "Lowest final percentage" if unit == "%" else "Lowest final points"
    rows = [f"| {name} | {what} |" + (" Also needs |" if minimums else "")]
    rows.append("| --- | ---: |" + (" --- |" if minimums else ""))
    for b in scheme.bands:
        needs = ", ".join(f"{comp} at least {v:g}{unit}" for comp, v in b.component_minimums)
        rows.append(
            f"| {b.grade} | {b.minimum:g}{unit} |" + (f" {needs or '-'} |" if minimums else "")
        )
    lowest = scheme.bands[-1].minimum
    rows.append(
        f"| {scheme.below} | below {lowest:g}{unit} |"
        + (" or a minimum missed |" if minimums else "")
    )
    return "\n".join(rows)


def grading_rules(ctx: PageContext) -> str:
    """The order in which the grade tools apply the rules (diffcourse_staff.grades.engine)."""
    c = ctx.course
    unit = c.late_policy.unit
    drops = [comp for comp in c.grading if comp.drop_lowest]
    if drops:
        drop = "; ".join(f"{comp.name}: the lowest {comp.drop_lowest}" for comp in drops)
        drop_step = (
            f"**Drops.** Within a component, the assignments that help you least are dropped"
            f" ({drop}), after lateness: a late assignment may be the one dropped."
        )
    else:
        drop_step = "**Drops.** No assignment is dropped."
    if c.grading_scheme.scheme == "percent":
        aggregate = (
            "**Aggregation.** A component's score is the points you kept over the points"
            " possible; the final percentage is the weighted sum of the components (the"
            " weights above). An excused assignment leaves its component."
        )
    else:
        aggregate = (
            "**Aggregation.** Each component gives its points (above) in proportion to your"
            " score in it; the final grade is their sum. An excused assignment leaves its"
            " component."
        )
    return "\n".join(
        [
            "Your final grade is computed from Gradescope's records in this order:",
            "",
            f"1. **Lateness.** Each part of an assignment (for a problem set: the code and the"
            f" written PDF) is as late as its last submission; free late {unit}s and"
            f" penalties apply as in the late policy.",
            f"2. {drop_step}",
            f"3. {aggregate}",
            "4. **Grade.** The table below turns the final grade into your grade. Nothing is"
            " rounded up: 89.99 is below 90.",
            "",
            "At the end of term every student receives a report with each assignment, its"
            f" lateness, where the free late {unit}s went and why, and the arithmetic.",
        ]
    )


def late_policy(ctx: PageContext) -> str:
    c = ctx.course
    lp = c.late_policy
    unit, units = lp.unit, f"{lp.unit}s"
    if lp.grace_minutes:
        later = lp.grace_minutes + 1
        late_rule = (
            f" Lateness is the time from the deadline to your last submission, less a"
            f" {lp.grace_minutes}-minute grace period (for upload delays; do not plan on it),"
            f" rounded up to whole {units}: {later} minutes late is one late {unit}, one"
            f" {unit} and {later} minutes is two."
        )
    else:
        late_rule = (
            f" Lateness is counted in whole {units}, rounded up: one minute past the"
            f" deadline is one late {unit}."
        )
    basis = (
        "of the score you earned on that part"
        if lp.penalty_basis == "score"
        else "of that part's points"
    )
    text = (
        f"You have **{lp.free_late_days} free late {units}** for the whole term, to use"
        f" when you need them without asking. At most"
        f" **{lp.max_late_days_per_assignment}** of them count on any one assignment,"
        f" and a free {unit} covers every part of the assignment (code and written)."
        + late_rule
        + f" Each late {unit} that your free {units} do not cover costs"
        f" **{lp.penalty_percent_per_day:g}%** {basis}."
        f" You do not choose where free {units} go: they are placed where they raise your"
        f" final grade most (not first come, first served), and your grade report shows"
        f" where they went and why."
    )
    if lp.zero_after is not None:
        text += f" Work more than **{lp.zero_after} {units}** late scores zero."
    if lp.no_late_work:
        titles = ", ".join(assignment_ref(ctx, c.assignment(aid)) for aid in lp.no_late_work)
        text += f" **No late work** is accepted on {titles}: a late submission scores zero."
    text += (
        " An extension from the instructors moves your deadline; an excused assignment"
        " does not count at all. Gradescope records the time of your last submission;"
        " that time is the one that counts."
    )
    return text


def calendar_link(ctx: PageContext) -> str:
    """A link to the course calendar (calendar.ics, made from the course file by the site)."""
    from diffcourse_staff.grades.ics import CALENDAR_URI

    if CALENDAR_URI not in ctx.page_uris:
        raise MacroError(f"the site has no {CALENDAR_URI} (the hooks add it)")
    return (
        f"[Add the course calendar]({ctx.link(CALENDAR_URI)}) (`{CALENDAR_URI}`: every"
        f" lecture, recitation, release and due date, in {ctx.course.timezone}) to your"
        " calendar app: import the file, or subscribe to its address to get changes."
    )


def policy(ctx: PageContext, name: str) -> str:
    if name not in ctx.course.policies or name == "regrade_window_days":
        raise MacroError(f"unknown policy {name!r} in the course file")
    return ctx.course.policy_text(name)


def late_value(ctx: PageContext, name: str) -> str:
    lp = ctx.course.late_policy
    if not hasattr(lp, name):
        raise MacroError(f"unknown late-policy value {name!r}")
    value = getattr(lp, name)
    return f"{value:g}" if isinstance(value, float) else str(value)


def policies_value(ctx: PageContext, name: str) -> str:
    if name not in ctx.course.policies:
        raise MacroError(f"unknown policies value {name!r}")
    return str(ctx.course.policies[name])


def link_value(ctx: PageContext, name: str) -> str:
    if name not in ctx.course.links:
        raise MacroError(f"unknown course link {name!r} (known: {', '.join(ctx.course.links)})")
    return ctx.course.links[name]


def staff_table(ctx: PageContext) -> str:
    rows = ["| Name | Role | Email | Office hours |", "| --- | --- | --- | --- |"]
    for s in ctx.course.staff:
        rows.append(f"| {s.name} | {s.role} | <{s.email}> | {s.office_hours} |")
    return "\n".join(rows)
