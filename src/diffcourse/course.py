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

ASSIGNMENT_KINDS = ("problem_set", "project")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


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
class Assignment:
    id: str
    title: str
    kind: str
    release: dt.datetime
    due: dt.datetime
    points: int
    notebook: str | None = None
    cell_timeout: int = 120
    # limits of the grading runner (autograder/diffcourse_grading), seconds and MB
    call_timeout: int = 60
    question_timeout: int = 120
    memory_mb: int = 1024

    @property
    def is_notebook(self) -> bool:
        return self.notebook is not None


@dataclass(frozen=True)
class GradingComponent:
    name: str
    weight: float
    assignments: tuple[str, ...] = ()


@dataclass(frozen=True)
class LatePolicy:
    free_late_days: int
    max_late_days_per_assignment: int
    penalty_percent_per_day: float
    unit: str
    grace_minutes: int


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
            {"notebook", "cell_timeout", "call_timeout", "question_timeout", "memory_mb"},
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
        assignments.append(
            Assignment(
                id=aid,
                title=r.text(a["title"], f"{key}.title"),
                kind=kind,
                release=release,
                due=due,
                points=r.integer(a["points"], f"{key}.points", minimum=1),
                notebook=notebook,
                cell_timeout=r.integer(a.get("cell_timeout", 120), f"{key}.cell_timeout", 1),
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

    g = r.mapping(top["grading"], "grading", {"components", "letter_cutoffs"})
    components = []
    for i, comp in enumerate(g["components"] or []):
        key = f"grading.components[{i}]"
        comp = r.mapping(comp, key, {"name", "weight"}, {"assignments"})
        refs = tuple(comp.get("assignments") or ())
        for j, ref in enumerate(refs):
            if ref not in known_ids:
                r.fail(f"{key}.assignments[{j}]", f"unknown assignment id {ref!r}")
        components.append(
            GradingComponent(
                r.text(comp["name"], f"{key}.name"),
                r.number(comp["weight"], f"{key}.weight"),
                refs,
            )
        )
    total = sum(comp.weight for comp in components)
    if abs(total - 100) > 1e-9:
        r.fail("grading.components", f"weights add up to {total}, not 100")
    graded = [ref for comp in components for ref in comp.assignments]
    for aid in known_ids:
        if graded.count(aid) != 1:
            r.fail("grading.components", f"assignment {aid!r} counts {graded.count(aid)} times")
    cutoffs = g["letter_cutoffs"]
    if not isinstance(cutoffs, dict) or not cutoffs:
        r.fail("grading.letter_cutoffs", "expected a mapping of letter to lowest percentage")
    for letter, value in cutoffs.items():
        r.number(value, f"grading.letter_cutoffs.{letter}")

    lp = r.mapping(
        top["late_policy"],
        "late_policy",
        {"free_late_days", "max_late_days_per_assignment", "penalty_percent_per_day", "unit"},
        {"grace_minutes"},
    )
    late = LatePolicy(
        r.integer(lp["free_late_days"], "late_policy.free_late_days"),
        r.integer(lp["max_late_days_per_assignment"], "late_policy.max_late_days_per_assignment"),
        r.number(lp["penalty_percent_per_day"], "late_policy.penalty_percent_per_day"),
        r.text(lp["unit"], "late_policy.unit"),
        r.integer(lp.get("grace_minutes", 0), "late_policy.grace_minutes"),
    )
    if late.penalty_percent_per_day > 100:
        r.fail("late_policy.penalty_percent_per_day", "cannot exceed 100")

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
    )


def main() -> None:
    """`python -m diffcourse.course [FILE]`: validate and summarise the course file."""
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
