"""Markdown generated from the course file for the site's pages.

Hand-written pages (site/*.md) and lecture notes carry tags such as
`{{ course.term }}`, `{{ grading_table }}` or `{{ assignment_dates ps1 }}`: a tag
is two braces, one space, a name, optional space-separated arguments, one space,
two braces. `expand_macros` replaces each with text computed from the course file,
so every date, number and name on the site has one source (course.yml). An
unknown tag, or an argument naming nothing in the course file, raises MacroError
(the build stops and names the page).
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from diffcourse_staff.course import Assignment, Course

MACRO_RE = re.compile(r"\{\{ ([a-z_]+(?:\.[a-z_]+)?)((?: [A-Za-z0-9_.-]+)*) \}\}")


class MacroError(ValueError):
    """A tag in a page that the course file cannot fill."""


@dataclass(frozen=True)
class PageContext:
    """What a tag needs besides the course: where the page is and how downloads behave."""

    course: Course
    page_uri: str  # the page's path inside the site, e.g. "assignments/ps1.md"
    page_uris: frozenset[str]  # every page and file of the site (to link only what exists)
    downloads: str = "require"  # "require" | "stub"
    # assignment id -> its dist/<id>/grading-report.json (the release's measurement)
    grading_reports: Mapping[str, dict] = field(default_factory=dict)

    def link(self, target_uri: str) -> str:
        """A link to target_uri (a site path) relative to this page."""
        base = posixpath.dirname(self.page_uri)
        return posixpath.relpath(target_uri, base or ".")


# ----------------------------------------------------------------- formatting


def fmt_date(d: dt.date) -> str:
    """Tue 19 Jan 2027."""
    return f"{d:%a} {d.day} {d:%b %Y}"


def fmt_short(d: dt.date) -> str:
    """Tue 19 Jan."""
    return f"{d:%a} {d.day} {d:%b}"


def fmt_datetime(t: dt.datetime) -> str:
    """Tue 2 Feb 2027, 23:59."""
    return f"{fmt_date(t.date())}, {t:%H:%M}"


def lecture_uri(notes: str) -> str:
    """The site path of a lecture's notes (the notes path of course.yml, kept as is)."""
    return notes


def assignment_uri(assignment_id: str) -> str:
    return f"assignments/{assignment_id}.md"


# The project's page: mini_projects/guide.md, brought into the site by the hooks.
MINI_PROJECT_URI = "mini-project.md"


def download_uri(assignment_id: str) -> str:
    return f"downloads/{assignment_id}-student.zip"


def notebook_uri(assignment_id: str) -> str:
    return f"downloads/{assignment_id}.ipynb"


def colab_url(course: Course, assignment_id: str) -> str | None:
    """Colab's address for the published student notebook, from course.links.site_source.

    Colab opens notebooks from GitHub: https://colab.research.google.com/github/<owner>/
    <repo>/blob/<branch>/<path>. None when the course file names no such source.
    """
    source = course.links.get("site_source", "").rstrip("/")
    prefix = "https://github.com/"
    if not source.startswith(prefix):
        return None
    colab = course.links.get("colab", "https://colab.research.google.com/").rstrip("/")
    return f"{colab}/github/{source[len(prefix) :]}/{notebook_uri(assignment_id)}"


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _assignment_ref(ctx: PageContext, a: Assignment) -> str:
    uri = MINI_PROJECT_URI if a.kind == "project" else assignment_uri(a.id)
    if uri in ctx.page_uris:
        return f"[{a.title}]({ctx.link(uri)})"
    return a.title


def _course_value(course: Course, name: str) -> str:
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


# ----------------------------------------------------------------- block tags


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
            parts.append(f"{_assignment_ref(ctx, a)} ({a.points} points)")
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
        titles = ", ".join(_assignment_ref(ctx, c.assignment(aid)) for aid in lp.no_late_work)
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


def _week(course: Course, d: dt.date) -> int:
    first_monday = course.start - dt.timedelta(days=course.start.weekday())
    return (d - first_monday).days // 7 + 1


def schedule_table(ctx: PageContext) -> str:
    """Every dated event of the term in order: lectures, releases, due dates, term dates."""
    c = ctx.course
    events: list[tuple[dt.datetime, int, str, str]] = []  # (when, order, what, details)
    events.append((dt.datetime.combine(c.start, dt.time(0, 0)), 0, "**Term starts**", ""))
    for n, lec in enumerate(c.lectures, 1):
        title = f"[{_escape_cell(lec.title)}]({ctx.link(lecture_uri(lec.notes))})"
        topics = _escape_cell("; ".join(lec.topics))
        when = dt.datetime.combine(lec.date, dt.time(12, 0))
        events.append((when, 1, f"Lecture {n}: {title}", topics))
    for a in c.assignments:
        ref = _assignment_ref(ctx, a)
        events.append(
            (a.release, 2, f"**Released:** {ref}", f"due {fmt_datetime(a.due)}, {a.points} points")
        )
        events.append(
            (a.due, 3, f"**Due {a.due:%H:%M}:** {ref}", f"released {fmt_short(a.release)}")
        )
        for m in a.milestones:
            if m.due != a.due:  # the final hand-in is the row above
                what = f"**Milestone:** {ref}: {_escape_cell(m.title)}"
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
            f"| {_assignment_ref(ctx, a)} | {fmt_datetime(a.release)} | {fmt_datetime(a.due)}"
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


def staff_table(ctx: PageContext) -> str:
    rows = ["| Name | Role | Email | Office hours |", "| --- | --- | --- | --- |"]
    for s in ctx.course.staff:
        rows.append(f"| {s.name} | {s.role} | <{s.email}> | {s.office_hours} |")
    return "\n".join(rows)


def _notebook_assignment(ctx: PageContext, assignment_id: str) -> Assignment:
    try:
        return ctx.course.assignment(assignment_id)
    except KeyError as e:
        raise MacroError(str(e.args[0])) from None


def assignment_dates(ctx: PageContext, assignment_id: str) -> str:
    a = _notebook_assignment(ctx, assignment_id)
    lp = ctx.course.late_policy
    return "\n".join(
        [
            "| This problem set | |",
            "| --- | --- |",
            f"| Released | {fmt_datetime(a.release)} ({ctx.course.timezone}) |",
            f"| Due | **{fmt_datetime(a.due)}** ({ctx.course.timezone}) |",
            f"| Points | {a.points} |",
            (
                "| Late days | no late work accepted"
                if a.id in lp.no_late_work
                else f"| Late days | at most {lp.max_late_days_per_assignment} free late"
                f" {lp.unit}s on this assignment"
            )
            + f" ([late policy]({ctx.link('syllabus.md')}#late-policy)) |",
        ]
    )


def assignment_download(ctx: PageContext, assignment_id: str) -> str:
    a = _notebook_assignment(ctx, assignment_id)
    uri = download_uri(a.id)
    if uri in ctx.page_uris:
        colab = colab_url(ctx.course, a.id)
        open_in_colab = f" [Open in Colab]({colab}){{ .md-button }}" if colab else ""
        return (
            f"[Download {a.id}-student.zip]({ctx.link(uri)}){{ .md-button .md-button--primary }}"
            f"{open_in_colab} (the notebook, its support files, its public tests and a"
            f" `requirements.txt`)"
        )
    if ctx.downloads == "stub":
        return (
            f'!!! note "Download not built"\n    This preview was built without the'
            f" release: `{a.id}-student.zip` appears here once `make release` has built it."
        )
    raise MacroError(
        f"the student zip of {a.id} is not in the site: build the release first"
        f" (make release), or build a preview with --stub-downloads"
    )


def _first_autograded_question(ctx: PageContext, a: Assignment) -> str:
    """The name of the assignment's first autograded question (for the check example)."""
    from diffcourse_staff.release.authoring import notebook_path
    from diffcourse_staff.release.notebook import read_source_notebook

    src = read_source_notebook(notebook_path(ctx.course, a))
    for q in src.questions:
        if not q.manual:
            return q.name
    raise MacroError(f"{a.id} has no autograded question")


def assignment_howto(ctx: PageContext, assignment_id: str) -> str:
    """How to work on a problem set, check it locally, submit it and run it on Colab."""
    from diffcourse_staff.release.authoring import notebook_name

    a = _notebook_assignment(ctx, assignment_id)
    nb = notebook_name(a) if a.notebook else f"{a.id}.ipynb"
    links = ctx.course.links
    gradescope = f"[Gradescope]({links['gradescope']})" if "gradescope" in links else "Gradescope"
    colab = f"[Google Colab]({links['colab']})" if "colab" in links else "Google Colab"
    example = _first_autograded_question(ctx, a)
    return f"""## Working on your laptop

1. Unzip `{a.id}-student.zip`. It holds `{nb}`, the files the notebook reads, its
   public tests and a `requirements.txt`.
2. Create an environment, install the requirements and start JupyterLab. One command
   installs everything on Linux, macOS and Windows, with the small CPU build of PyTorch
   (no GPU needed):

    ```bash
    cd {a.id}
    python3 -m venv .venv
    source .venv/bin/activate          # Windows: .venv\\Scripts\\activate
    python -m pip install -r requirements.txt
    jupyter lab {nb}
    ```

3. Run the notebook from the top. Each function you write raises
   `NotImplementedError` naming its question until you replace that line with your
   code; type your written answers in the answer cells (Markdown with `$...$` math).

## Checking your work

`grader.check("{example}")` in the notebook runs the **public** tests of a question, and
`grader.check_all()` runs all of them. Public tests only catch the shape, type and
simplest mistakes: the **hidden** tests, which run on Gradescope after the deadline,
decide most of the points; their results appear on Gradescope once the grades are
published. Test your code yourself on cases you can work out by hand. A bug in one
function costs only that function's points: when a question's hidden tests call your
other functions, the grader uses the reference implementation of those instead.
Before you submit, restart the kernel and run all cells: the autograder runs your
notebook from top to bottom, and a cell that runs longer than {a.cell_timeout} seconds
is stopped (it and the questions that depend on it get no points).

## Submitting

On {gradescope} the problem set has two assignments, and you submit to both:

- **{a.title} (code)**: upload `{nb}` (or the zip made by the notebook's last
  cell, `grader.export()`). The autograder grades the coding questions.
- **{a.title} (written)**: upload a PDF of the notebook with your written answers. In
  Jupyter or Colab, use your browser's *File > Print > Save as PDF*; assign the pages of
  each question when Gradescope asks.

You can submit as often as you like; the last submission counts, and its time decides
any late days.

## Running on Colab

If your laptop cannot run the notebook, use {colab}: *Open in Colab* above opens
the notebook there (or *File > Upload notebook* and choose `{nb}` from the zip). Run
the notebook's set-up cell first: on Colab it downloads the problem set's other files
from this site and installs its packages; then carry on as on a laptop. Colab forgets
your work when the session ends: download your notebook (*File > Download > Download
.ipynb*) before you close it, and submit that file."""


def release_guide(ctx: PageContext) -> str:
    """A link to the staff release guide (site/staff/release-guide.md, by the release's author)."""
    uri = "staff/release-guide.md"
    if uri in ctx.page_uris:
        return f"[release guide]({ctx.link(uri)})"
    return "release guide (site/staff/release-guide.md, not written yet)"


def grading_costs(ctx: PageContext) -> str:
    """What grading each reference cost at the last release, and the Gradescope settings."""
    rows = [
        "| Problem set | Reference score | CPU time | Wall time | Peak memory, resident"
        " (anonymous) | Gradescope memory | Timeout | CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for a in ctx.course.notebook_assignments:
        report = ctx.grading_reports.get(a.id)
        if report is None:
            rows.append(f"| {a.id} | not measured yet: run `make release` | | | | | | |")
            continue
        ref, gs = report["reference"], report["gradescope"]
        anon = ref.get("peak_anon_mb")
        memory = f"{ref['peak_rss_mb']:.0f} MB" + ("" if anon is None else f" ({anon:.0f} MB)")
        rows.append(
            f"| {a.id} | {ref['total']:g} / {ref['possible']:g} | {ref['cpu_s']:.0f} s"
            f" | {ref['wall_s']:.0f} s | {memory} | {gs['memory_mb']} MB"
            f" | {gs['timeout_minutes']} min | {_escape_cell(gs['cpu'])} |"
        )
    return "\n".join(rows)


def _first_paragraphs(doc: str | None) -> str:
    return inspect.cleandoc(doc) if doc else "(no docstring)"


def _signature(obj) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def api(ctx: PageContext, module_name: str, *only: str) -> str:
    """The public functions and classes of a library module, from its docstrings.

    Public means the names given after the module, or else those listed in the module's
    __all__, or else those defined in the module under a name without a leading
    underscore. The page is regenerated on every build, so it cannot drift from the code.
    """
    if not module_name.startswith("diffcourse."):
        raise MacroError(f"api: {module_name!r} is not a module of the course library")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise MacroError(f"api: cannot import {module_name}: {e}") from None
    names = list(only) or getattr(module, "__all__", None)
    missing = [n for n in names or () if not hasattr(module, n)]
    if missing:
        raise MacroError(f"api: {module_name} has no {', '.join(missing)}")
    if names is None:
        names = [
            n
            for n, obj in vars(module).items()
            if not n.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and getattr(obj, "__module__", None) == module_name
        ]
    parts = [f"`{module_name}`: {_first_paragraphs(module.__doc__).splitlines()[0]}", ""]
    for name in names:
        obj = getattr(module, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        kind = "class" if inspect.isclass(obj) else "def"
        parts += [
            f"#### `{module_name.split('.', 1)[1]}.{name}`",
            "",
            "```python",
            f"{kind} {name}{_signature(obj)}",
            "```",
            "",
            "```text",
            _first_paragraphs(obj.__doc__),
            "```",
            "",
        ]
        if inspect.isclass(obj):
            methods = [
                (m, f)
                for m, f in vars(obj).items()
                if not m.startswith("_") and inspect.isfunction(f) and f.__doc__
            ]
            for m, f in methods:
                first = inspect.cleandoc(f.__doc__).splitlines()[0]
                parts.append(f"- `{m}{_signature(f)}`: {_escape_cell(first)}")
            if methods:
                parts.append("")
    return "\n".join(parts)


def assignment_title(ctx: PageContext, assignment_id: str) -> str:
    return _notebook_assignment(ctx, assignment_id).title


# ----------------------------------------------------------------- expansion

BLOCKS: dict[str, Callable[..., str]] = {
    "objectives": objectives,
    "prerequisites": prerequisites,
    "meetings": meetings,
    "grading_table": grading_table,
    "letter_table": letter_table,
    "late_policy": late_policy,
    "grading_rules": grading_rules,
    "calendar_link": calendar_link,
    "policy": policy,
    "schedule_table": schedule_table,
    "assignment_list": assignment_list,
    "lecture_list": lecture_list,
    "staff_table": staff_table,
    "assignment_dates": assignment_dates,
    "assignment_download": assignment_download,
    "assignment_title": assignment_title,
    "assignment_howto": assignment_howto,
    "release_guide": release_guide,
    "grading_costs": grading_costs,
    "api": api,
}

# The Mini project and Library pages' tags (their own module; it imports this one lazily).
from diffcourse_staff.site.project_pages import BLOCKS as _PROJECT_BLOCKS  # noqa: E402

BLOCKS.update(_PROJECT_BLOCKS)

NAMESPACES: dict[str, Callable[[PageContext, str], str]] = {
    "course": lambda ctx, name: _course_value(ctx.course, name),
    "late": late_value,
    "policies": policies_value,
    "links": link_value,
}


def render_tag(ctx: PageContext, name: str, args: list[str]) -> str:
    if "." in name:
        space, key = name.split(".", 1)
        if space not in NAMESPACES or args:
            raise MacroError(f"unknown tag {{{{ {name} }}}}")
        return NAMESPACES[space](ctx, key)
    if name not in BLOCKS:
        known = ", ".join(sorted(BLOCKS) + [f"{s}.*" for s in NAMESPACES])
        raise MacroError(f"unknown tag {{{{ {name} }}}} (known: {known})")
    try:
        return BLOCKS[name](ctx, *args)
    except TypeError:
        raise MacroError(f"wrong arguments for {{{{ {name} }}}}: {args}") from None


def expand_macros(markdown: str, ctx: PageContext) -> str:
    """Replace every {{ tag }} of a page; raise MacroError naming the first bad one."""

    def replace(m: re.Match) -> str:
        return render_tag(ctx, m.group(1), m.group(2).split())

    return MACRO_RE.sub(replace, markdown)


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
