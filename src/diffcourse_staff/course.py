"""Load and validate the course file (course.yml).

The course file is the single source of truth for the offering: dates, staff,
lectures, assignments, points, grading and late policy. Every consumer (the
release, the site, the grade tools) goes through `load_course`, which refuses a
file with a bad date, a missing or unknown key, a duplicate id, an unknown
assignment reference or a due date before its release, naming the file, the
key and what is wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_COURSE_FILE = REPO_ROOT / "course.yml"

ASSIGNMENT_KINDS = ("problem_set", "project", "exam", "presentation")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
GRADING_SCHEMES = ("percent", "points")
PENALTY_BASES = ("score", "points")
LATE_UNITS = {"day": 86400, "hour": 3600}


class CourseFileError(ValueError):
    """A problem in the course file, with the file and the key that caused it."""

    def __init__(self, path: Path | str, key: str, problem: str):
        self.path, self.key, self.problem = Path(path), key, problem
        super().__init__(f"{path}: {key}: {problem}")


@dataclass(frozen=True)
class Meeting:
    kind: str
    days: tuple[str, ...]
    time: str
    place: str


@dataclass(frozen=True)
class StaffMember:
    name: str
    role: str
    email: str
    office_hours: str


@dataclass(frozen=True)
class Lecture:
    id: str
    date: dt.date
    title: str
    notes: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Milestone:
    """One dated, pointed hand-in of a project (its points add up to the project's)."""

    id: str
    title: str
    due: dt.datetime
    points: int
    deliverable: str


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    kind: str
    release: dt.datetime
    due: dt.datetime
    points: int
    notebook: str | None = None
    cell_timeout: int = 120
    milestones: tuple[Milestone, ...] = ()
    # limits of the grading runner (autograder/diffcourse_grading), seconds and MB
    call_timeout: int = 60
    question_timeout: int = 120
    memory_mb: int = 1024

    @property
    def is_notebook(self) -> bool:
        return self.notebook is not None


@dataclass(frozen=True)
class GradingComponent:
    """A category of the final grade.

    `weight` is a percentage of the final grade (scheme "percent") or the points the
    component is worth (scheme "points"). A component without assignments is scored
    from the participation CSV, out of `points`.
    """

    name: str
    weight: float
    assignments: tuple[str, ...] = ()
    drop_lowest: int = 0
    points: float = 100


@dataclass(frozen=True)
class LatePolicy:
    free_late_days: int
    max_late_days_per_assignment: int
    penalty_percent_per_day: float
    unit: str
    grace_minutes: int
    # "score": a late day costs that percentage of the score earned; "points": of the
    # points possible (the score never goes below zero).
    penalty_basis: str = "score"
    # Late by more than this many units (after extensions): the work scores zero.
    zero_after: int | None = None
    # Assignments that accept no late work (any lateness past the grace: zero).
    no_late_work: tuple[str, ...] = ()

    @property
    def unit_seconds(self) -> int:
        return LATE_UNITS[self.unit]


@dataclass(frozen=True)
class GradescopePart:
    """Where one part of a course assignment's score comes from.

    `gradescope`: the Gradescope assignment's name (a column group of the gradebook
    export, or a per-assignment "Download Grades" CSV). `container`: the GPU grading
    container's scores.csv for this assignment. A part that `replaces` another takes
    its place, for each student it has a score for.
    """

    part: str
    gradescope: str | None = None
    container: bool = False
    autograded: bool = False
    replaces: str | None = None


@dataclass(frozen=True)
class GradeBand:
    """A final grade (letter or Pass/Distinction) and what it takes.

    `minimum` is in the scheme's unit (percent, or points); `component_minimums` maps
    a component name to the least it must reach on its own (percent of the component,
    or its points).
    """

    grade: str
    minimum: float
    component_minimums: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class GradingScheme:
    """What the grade tools need beyond the components (course.yml `grading:`)."""

    scheme: str = "percent"  # "percent" | "points"
    bands: tuple[GradeBand, ...] = ()  # best first
    below: str = "F"  # the grade under the lowest band
    parts: tuple[tuple[str, tuple[GradescopePart, ...]], ...] = ()  # assignment id -> parts
    ignore_gradescope: tuple[str, ...] = ()

    def parts_of(self, assignment_id: str) -> tuple[GradescopePart, ...]:
        return dict(self.parts)[assignment_id]


@dataclass(frozen=True)
class Course:
    path: Path
    code: str
    title: str
    term: str
    timezone: str
    start: dt.date
    end: dt.date
    description: str
    audience: str
    prerequisites: tuple[str, ...]
    objectives: tuple[str, ...]
    meetings: tuple[Meeting, ...]
    links: dict[str, str]
    staff: tuple[StaffMember, ...]
    lectures: tuple[Lecture, ...]
    assignments: tuple[Assignment, ...]
    grading: tuple[GradingComponent, ...]
    letter_cutoffs: dict[str, float]
    late_policy: LatePolicy
    policies: dict[str, Any] = field(default_factory=dict)
    grading_scheme: GradingScheme = field(default_factory=GradingScheme)

    def assignment(self, assignment_id: str) -> Assignment:
        for a in self.assignments:
            if a.id == assignment_id:
                return a
        known = ", ".join(a.id for a in self.assignments)
        raise KeyError(f"unknown assignment id {assignment_id!r} (known: {known})")

    @property
    def notebook_assignments(self) -> tuple[Assignment, ...]:
        return tuple(a for a in self.assignments if a.is_notebook)

    def policy_text(self, name: str) -> str:
        """A policy paragraph with its {placeholders} filled from the policies block."""
        return str(self.policies[name]).format(**self.policies)


# --------------------------------------------------------------------------
# Validation helpers: each takes the key path so errors name it exactly.


class _Reader:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str):
        raise CourseFileError(self.path, key, problem)

    def mapping(self, value: Any, key: str, required: set[str], optional: set[str] = frozenset()):
        if not isinstance(value, dict):
            self.fail(key, f"expected a mapping, got {type(value).__name__}")
        missing = sorted(required - value.keys())
        if missing:
            self.fail(key, f"missing required key(s): {', '.join(missing)}")
        unknown = sorted(value.keys() - required - optional)
        if unknown:
            allowed = ", ".join(sorted(required | optional))
            self.fail(key, f"unknown key(s): {', '.join(map(str, unknown))} (allowed: {allowed})")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected non-empty text, got {value!r}")
        return value.strip()

    def number(self, value: Any, key: str, minimum: float = 0) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"expected a number, got {value!r}")
        if value < minimum:
            self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def integer(self, value: Any, key: str, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected a whole number, got {value!r}")
        return int(self.number(value, key, minimum))

    def date(self, value: Any, key: str) -> dt.date:
        if isinstance(value, dt.datetime):
            self.fail(key, f"expected a date (YYYY-MM-DD), got a date and time {value}")
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(key, f"not a valid date (YYYY-MM-DD): {value!r}")

    def datetime(self, value: Any, key: str) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None)
        if isinstance(value, dt.date):
            self.fail(key, f"needs a time as well, for example {value}T23:59")
        if ":" not in str(value):
            self.fail(key, f"needs a time as well, for example {value}T23:59")
        try:
            return dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(key, f"not a valid date and time (YYYY-MM-DDTHH:MM): {value!r}")

    def text_list(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.fail(key, "expected a non-empty list")
        return tuple(self.text(v, f"{key}[{i}]") for i, v in enumerate(value))

    def unique_ids(self, items, key: str):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                self.fail(f"{key}[{i}].id", f"duplicate id {item.id!r}")
            seen.add(item.id)


def _read_milestones(r: _Reader, a: dict, key: str, kind, release, due, points, end):
    """A project's milestones: in date order, inside the project, points adding up to its own.

    The project's due date is its final hand-in, so it must be the due date of one
    milestone; a later one (a presentation day) may follow it until the term ends.
    """
    raw = a.get("milestones")
    if raw is None:
        return ()
    if kind != "project":
        r.fail(f"{key}.milestones", "only a project has milestones")
    if not isinstance(raw, list) or not raw:
        r.fail(f"{key}.milestones", "expected a non-empty list")
    milestones = []
    for i, m in enumerate(raw):
        mkey = f"{key}.milestones[{i}]"
        m = r.mapping(m, mkey, {"id", "title", "due", "points", "deliverable"})
        milestones.append(
            Milestone(
                id=r.text(m["id"], f"{mkey}.id"),
                title=r.text(m["title"], f"{mkey}.title"),
                due=r.datetime(m["due"], f"{mkey}.due"),
                points=r.integer(m["points"], f"{mkey}.points"),
                deliverable=r.text(m["deliverable"], f"{mkey}.deliverable"),
            )
        )
    r.unique_ids(milestones, f"{key}.milestones")
    for i, m in enumerate(milestones):
        mkey = f"{key}.milestones[{i}].due"
        if m.due <= release:
            r.fail(mkey, f"{m.due} is not after the project's release {release}")
        if m.due.date() > end:
            r.fail(mkey, f"{m.due.date()} is after the term ends ({end})")
        if i and m.due <= milestones[i - 1].due:
            r.fail(mkey, "milestones must be listed in date order")
    total = sum(m.points for m in milestones)
    if total != points:
        r.fail(f"{key}.milestones", f"points add up to {total}, not the project's {points}")
    if due not in {m.due for m in milestones}:
        r.fail(f"{key}.due", f"{due} is the due date of none of the milestones (the final hand-in)")
    return tuple(milestones)


def load_course(path: Path | str = DEFAULT_COURSE_FILE) -> Course:
    """Read and validate the course file; raise CourseFileError on the first problem."""
    path = Path(path)
    r = _Reader(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseFileError(path, "(file)", "course file not found") from None
    except yaml.YAMLError as e:
        raise CourseFileError(path, "(file)", f"not valid YAML: {e}") from None

    top = r.mapping(
        raw,
        "(top level)",
        {"course", "staff", "lectures", "assignments", "grading", "late_policy", "policies"},
    )

    c = r.mapping(
        top["course"],
        "course",
        {"code", "title", "term", "timezone", "start", "end", "description", "meetings"},
        {"audience", "prerequisites", "objectives", "links"},
    )
    start, end = r.date(c["start"], "course.start"), r.date(c["end"], "course.end")
    if end <= start:
        r.fail("course.end", f"ends ({end}) before it starts ({start})")

    meetings = []
    for i, m in enumerate(c["meetings"] or []):
        key = f"course.meetings[{i}]"
        m = r.mapping(m, key, {"kind", "days", "time", "place"})
        days = r.text_list(m["days"], f"{key}.days")
        for d in days:
            if d not in WEEKDAYS:
                r.fail(f"{key}.days", f"unknown weekday {d!r} (use {', '.join(WEEKDAYS)})")
        meetings.append(
            Meeting(
                r.text(m["kind"], f"{key}.kind"),
                days,
                r.text(m["time"], f"{key}.time"),
                r.text(m["place"], f"{key}.place"),
            )
        )

    staff = []
    for i, s in enumerate(top["staff"] or []):
        key = f"staff[{i}]"
        s = r.mapping(s, key, {"name", "role", "email", "office_hours"})
        email = r.text(s["email"], f"{key}.email")
        if "@" not in email:
            r.fail(f"{key}.email", f"not an email address: {email!r}")
        staff.append(
            StaffMember(
                r.text(s["name"], f"{key}.name"),
                r.text(s["role"], f"{key}.role"),
                email,
                r.text(s["office_hours"], f"{key}.office_hours"),
            )
        )
    if not staff:
        r.fail("staff", "the course needs at least one staff member")

    lectures = []
    for i, lec in enumerate(top["lectures"] or []):
        key = f"lectures[{i}]"
        lec = r.mapping(lec, key, {"id", "date", "title", "notes", "topics"})
        date = r.date(lec["date"], f"{key}.date")
        if not start <= date <= end:
            r.fail(f"{key}.date", f"{date} is outside the term ({start} to {end})")
        notes = r.text(lec["notes"], f"{key}.notes")
        if not (path.parent / notes).is_file():
            r.fail(f"{key}.notes", f"no such file: {notes}")
        lectures.append(
            Lecture(
                r.text(lec["id"], f"{key}.id"),
                date,
                r.text(lec["title"], f"{key}.title"),
                notes,
                r.text_list(lec["topics"], f"{key}.topics"),
            )
        )
    r.unique_ids(lectures, "lectures")
    for i in range(1, len(lectures)):
        if lectures[i].date < lectures[i - 1].date:
            r.fail(f"lectures[{i}].date", "lectures must be listed in date order")

    assignments = []
    for i, a in enumerate(top["assignments"] or []):
        key = f"assignments[{i}]"
        a = r.mapping(
            a,
            key,
            {"id", "title", "kind", "release", "due", "points"},
            {
                "notebook",
                "cell_timeout",
                "call_timeout",
                "question_timeout",
                "memory_mb",
                "milestones",
            },
        )
        aid = r.text(a["id"], f"{key}.id")
        if not aid.replace("_", "").isalnum() or not aid.islower():
            r.fail(f"{key}.id", f"ids are lower-case letters, digits and _: {aid!r}")
        kind = r.text(a["kind"], f"{key}.kind")
        if kind not in ASSIGNMENT_KINDS:
            r.fail(f"{key}.kind", f"unknown kind {kind!r} (use {', '.join(ASSIGNMENT_KINDS)})")
        release = r.datetime(a["release"], f"{key}.release")
        due = r.datetime(a["due"], f"{key}.due")
        if due <= release:
            r.fail(f"{key}.due", f"due date {due} is not after the release date {release}")
        if not start <= release.date() <= end:
            r.fail(f"{key}.release", f"{release.date()} is outside the term ({start} to {end})")
        notebook = a.get("notebook")
        if notebook is not None:
            notebook = r.text(notebook, f"{key}.notebook")
            if not (path.parent / notebook).is_file():
                r.fail(f"{key}.notebook", f"no such file: {notebook}")
        elif kind == "problem_set":
            r.fail(key, "a problem set needs a notebook")
        points = r.integer(a["points"], f"{key}.points", minimum=1)
        milestones = _read_milestones(r, a, key, kind, release, due, points, end)
        assignments.append(
            Assignment(
                id=aid,
                title=r.text(a["title"], f"{key}.title"),
                kind=kind,
                release=release,
                due=due,
                points=points,
                notebook=notebook,
                cell_timeout=r.integer(a.get("cell_timeout", 120), f"{key}.cell_timeout", 1),
                milestones=milestones,
                call_timeout=r.integer(a.get("call_timeout", 60), f"{key}.call_timeout", 1),
                question_timeout=r.integer(
                    a.get("question_timeout", 120), f"{key}.question_timeout", 1
                ),
                memory_mb=r.integer(a.get("memory_mb", 1024), f"{key}.memory_mb", 256),
            )
        )
        if assignments[-1].question_timeout < assignments[-1].call_timeout:
            r.fail(f"{key}.question_timeout", "must be at least call_timeout")
    r.unique_ids(assignments, "assignments")
    known_ids = {a.id for a in assignments}

    components, cutoffs, scheme = _read_grading(r, top["grading"], assignments)
    late = _read_late_policy(r, top["late_policy"], known_ids)

    policies = r.mapping(
        top["policies"],
        "policies",
        {"collaboration", "ai_use", "regrades", "regrade_window_days"},
        {"accommodations"},
    )
    r.integer(policies["regrade_window_days"], "policies.regrade_window_days", 1)

    return Course(
        path=path,
        code=r.text(c["code"], "course.code"),
        title=r.text(c["title"], "course.title"),
        term=r.text(c["term"], "course.term"),
        timezone=r.text(c["timezone"], "course.timezone"),
        start=start,
        end=end,
        description=r.text(c["description"], "course.description"),
        audience=r.text(c.get("audience", ""), "course.audience") if c.get("audience") else "",
        prerequisites=tuple(c.get("prerequisites") or ()),
        objectives=tuple(c.get("objectives") or ()),
        meetings=tuple(meetings),
        links=dict(c.get("links") or {}),
        staff=tuple(staff),
        lectures=tuple(lectures),
        assignments=tuple(assignments),
        grading=tuple(components),
        letter_cutoffs=dict(cutoffs),
        late_policy=late,
        policies=dict(policies),
        grading_scheme=scheme,
    )


# --------------------------------------------------------------------------
# The grading and late-policy sections: everything the grade tools need.


def _read_components(r: _Reader, raw: Any, scheme: str, assignments) -> list[GradingComponent]:
    points_of = {a.id: a.points for a in assignments}
    if not isinstance(raw, list) or not raw:
        r.fail("grading.components", "expected a non-empty list of components")
    components = []
    for i, comp in enumerate(raw):
        key = f"grading.components[{i}]"
        optional = {"assignments", "drop_lowest", "points"}
        comp = r.mapping(
            comp, key, {"name"} if scheme == "points" else {"name", "weight"}, optional | {"weight"}
        )
        refs = tuple(comp.get("assignments") or ())
        for j, ref in enumerate(refs):
            if ref not in points_of:
                r.fail(f"{key}.assignments[{j}]", f"unknown assignment id {ref!r}")
        drop = r.integer(comp.get("drop_lowest", 0), f"{key}.drop_lowest")
        if refs and drop >= len(refs):
            r.fail(
                f"{key}.drop_lowest", f"drops {drop} of {len(refs)} assignments: keep at least one"
            )
        if drop and not refs:
            r.fail(f"{key}.drop_lowest", "a component without assignments has nothing to drop")
        if "points" in comp and refs:
            r.fail(
                f"{key}.points",
                "only a component without assignments (scored from the participation CSV)"
                " has its own points",
            )
        points = r.number(comp.get("points", 100), f"{key}.points", minimum=1e-9)
        if "weight" in comp:
            weight = r.number(comp["weight"], f"{key}.weight")
        else:  # points scheme: raw points (the assignments' points, or the component's own)
            weight = float(sum(points_of[a] for a in refs)) if refs else points
        components.append(
            GradingComponent(r.text(comp["name"], f"{key}.name"), weight, refs, drop, points)
        )
    names = [c.name for c in components]
    for i, name in enumerate(names):
        if names.index(name) != i:
            r.fail(f"grading.components[{i}].name", f"duplicate component name {name!r}")
    total = sum(comp.weight for comp in components)
    if scheme == "percent" and abs(total - 100) > 1e-9:
        r.fail("grading.components", f"weights add up to {total:g}, not 100")
    graded = [ref for comp in components for ref in comp.assignments]
    for a in assignments:
        if graded.count(a.id) != 1:
            r.fail("grading.components", f"assignment {a.id!r} counts {graded.count(a.id)} times")
    return components


def _read_bands(r: _Reader, g: dict, components, total: float) -> tuple[tuple[GradeBand, ...], str]:
    if ("letter_cutoffs" in g) == ("bands" in g):
        r.fail(
            "grading",
            "give exactly one of letter_cutoffs (letters) and bands (e.g. Pass/Distinction)",
        )
    if "letter_cutoffs" in g:
        cutoffs = g["letter_cutoffs"]
        if not isinstance(cutoffs, dict) or not cutoffs:
            r.fail("grading.letter_cutoffs", "expected a mapping of letter to lowest percentage")
        bands = [
            GradeBand(str(k), r.number(v, f"grading.letter_cutoffs.{k}"))
            for k, v in cutoffs.items()
        ]
        bands.sort(key=lambda b: -b.minimum)
        default_below = "F"
    else:
        raw = g["bands"]
        if not isinstance(raw, list) or not raw:
            r.fail("grading.bands", "expected a list of bands, best first")
        names = {c.name: c for c in components}
        bands = []
        for i, b in enumerate(raw):
            key = f"grading.bands[{i}]"
            b = r.mapping(b, key, {"grade", "minimum"}, {"component_minimums"})
            mins = b.get("component_minimums") or {}
            if not isinstance(mins, dict):
                r.fail(
                    f"{key}.component_minimums", "expected a mapping of component name to minimum"
                )
            for name, value in mins.items():
                if name not in names:
                    r.fail(
                        f"{key}.component_minimums",
                        f"unknown component {name!r} (known: {', '.join(names)})",
                    )
                r.number(value, f"{key}.component_minimums.{name}")
            bands.append(
                GradeBand(
                    r.text(str(b["grade"]), f"{key}.grade"),
                    r.number(b["minimum"], f"{key}.minimum"),
                    tuple(mins.items()),
                )
            )
            if i and bands[i].minimum > bands[i - 1].minimum:
                r.fail(f"{key}.minimum", "bands are listed best first (minimums do not increase)")
        default_below = "Fail"
    grades = [b.grade for b in bands]
    for b in bands:
        if grades.count(b.grade) > 1:
            r.fail("grading", f"grade {b.grade!r} appears twice")
        if b.minimum > total:
            r.fail(
                "grading", f"grade {b.grade!r} needs {b.minimum:g}, more than the total {total:g}"
            )
    below = r.text(str(g.get("below", default_below)), "grading.below")
    return tuple(bands), below


def _read_parts(
    r: _Reader, raw: Any, assignments
) -> tuple[tuple[str, tuple[GradescopePart, ...]], ...]:
    """Every assignment's score parts; one part named after its title unless listed."""
    raw = raw or {}
    if not isinstance(raw, dict):
        r.fail("grading.parts", "expected a mapping of assignment id to its list of parts")
    known = {a.id for a in assignments}
    for aid in raw:
        if aid not in known:
            r.fail(f"grading.parts.{aid}", f"unknown assignment id {aid!r}")
    result, gradescope_names = [], {}
    for a in assignments:
        if a.id not in raw:
            result.append((a.id, (GradescopePart("score", gradescope=a.title),)))
            gradescope_names.setdefault(a.title, f"assignments[{a.id}].title")
            continue
        items = raw[a.id]
        if not isinstance(items, list) or not items:
            r.fail(f"grading.parts.{a.id}", "expected a non-empty list of parts")
        parts = []
        for i, item in enumerate(items):
            key = f"grading.parts.{a.id}[{i}]"
            item = r.mapping(
                item, key, {"part"}, {"gradescope", "container", "autograded", "replaces"}
            )
            container = item.get("container", False)
            if not isinstance(container, bool):
                r.fail(f"{key}.container", f"expected true or false, got {container!r}")
            if ("gradescope" in item) == container:
                r.fail(key, "give either gradescope: <assignment name> or container: true")
            name = r.text(item["gradescope"], f"{key}.gradescope") if "gradescope" in item else None
            if name is not None:
                if name in gradescope_names:
                    r.fail(
                        f"{key}.gradescope", f"{name!r} is already used by {gradescope_names[name]}"
                    )
                gradescope_names[name] = key
            replaces = item.get("replaces")
            parts.append(
                GradescopePart(
                    r.text(item["part"], f"{key}.part"),
                    name,
                    container,
                    bool(item.get("autograded", False)),
                    replaces,
                )
            )
        labels = [p.part for p in parts]
        for i, p in enumerate(parts):
            key = f"grading.parts.{a.id}[{i}]"
            if labels.count(p.part) > 1:
                r.fail(f"{key}.part", f"duplicate part {p.part!r}")
            if p.replaces is not None:
                target = next((q for q in parts if q.part == p.replaces), None)
                if target is None or target is p:
                    r.fail(f"{key}.replaces", f"no other part {p.replaces!r} in {a.id}")
                if target.replaces is not None:
                    r.fail(f"{key}.replaces", f"{p.replaces!r} replaces a part itself: no chains")
        for i, p in enumerate(parts):
            if p.container and not p.replaces:
                r.fail(
                    f"grading.parts.{a.id}[{i}].replaces",
                    "the container's scores replace a Gradescope part (its Max Points hold)",
                )
        if sum(p.container for p in parts) > 1:
            r.fail(f"grading.parts.{a.id}", "at most one container part per assignment")
        if all(p.replaces for p in parts):
            r.fail(f"grading.parts.{a.id}", "needs at least one part that replaces nothing")
        result.append((a.id, tuple(parts)))
    return tuple(result)


def _read_grading(r: _Reader, raw: Any, assignments):
    """grading: components, their weights or points, drops, the grade bands and score parts."""
    g = r.mapping(
        raw,
        "grading",
        {"components"},
        {"scheme", "letter_cutoffs", "bands", "below", "parts", "ignore_gradescope"},
    )
    scheme = r.text(g.get("scheme", "percent"), "grading.scheme")
    if scheme not in GRADING_SCHEMES:
        r.fail("grading.scheme", f"unknown scheme {scheme!r} (use {', '.join(GRADING_SCHEMES)})")
    components = _read_components(r, g["components"], scheme, assignments)
    total = 100.0 if scheme == "percent" else sum(c.weight for c in components)
    bands, below = _read_bands(r, g, components, total)
    ignore = (
        tuple(r.text_list(g["ignore_gradescope"], "grading.ignore_gradescope"))
        if g.get("ignore_gradescope")
        else ()
    )
    grading = GradingScheme(
        scheme, bands, below, _read_parts(r, g.get("parts"), assignments), ignore
    )
    cutoffs = {b.grade: b.minimum for b in bands}
    return tuple(components), cutoffs, grading


def _read_late_policy(r: _Reader, raw: Any, known_ids: set[str]) -> LatePolicy:
    """late_policy: free units, the cap, the penalty, the hard limit and no-late assignments."""
    lp = r.mapping(
        raw,
        "late_policy",
        {"free_late_days", "max_late_days_per_assignment", "penalty_percent_per_day", "unit"},
        {"grace_minutes", "penalty_basis", "zero_after", "no_late_work"},
    )
    unit = r.text(lp["unit"], "late_policy.unit")
    if unit not in LATE_UNITS:
        r.fail("late_policy.unit", f"unknown unit {unit!r} (use {', '.join(LATE_UNITS)})")
    basis = r.text(lp.get("penalty_basis", "score"), "late_policy.penalty_basis")
    if basis not in PENALTY_BASES:
        r.fail(
            "late_policy.penalty_basis", f"unknown basis {basis!r} (use {', '.join(PENALTY_BASES)})"
        )
    zero_after = lp.get("zero_after")
    if zero_after is not None:
        zero_after = r.integer(zero_after, "late_policy.zero_after", minimum=0)
    no_late = (
        tuple(r.text_list(lp["no_late_work"], "late_policy.no_late_work"))
        if lp.get("no_late_work")
        else ()
    )
    for i, aid in enumerate(no_late):
        if aid not in known_ids:
            r.fail(f"late_policy.no_late_work[{i}]", f"unknown assignment id {aid!r}")
    late = LatePolicy(
        r.integer(lp["free_late_days"], "late_policy.free_late_days"),
        r.integer(lp["max_late_days_per_assignment"], "late_policy.max_late_days_per_assignment"),
        r.number(lp["penalty_percent_per_day"], "late_policy.penalty_percent_per_day"),
        unit,
        r.integer(lp.get("grace_minutes", 0), "late_policy.grace_minutes"),
        basis,
        zero_after,
        no_late,
    )
    if late.penalty_percent_per_day > 100:
        r.fail("late_policy.penalty_percent_per_day", "cannot exceed 100")
    return late


def main() -> None:
    """`python -m diffcourse_staff.course [FILE]`: validate and summarise the course file."""
    import sys

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_COURSE_FILE
    try:
        course = load_course(path)
    except CourseFileError as e:
        sys.exit(f"error: {e}")
    print(
        f"{course.path.name}: {course.code} {course.term}: {len(course.lectures)} lectures, "
        f"{len(course.assignments)} assignments, {len(course.staff)} staff: OK"
    )


if __name__ == "__main__":
    main()
