"""The course file (course.yml) as the objects every tool reads.

The course file is the single source of truth for the offering: dates, staff,
lectures, assignments, points, grading and late policy. Every consumer (the
release, the site, the grade tools) goes through `load_course`: the schema in
`diffcourse_staff.course_schema` validates the file (types, keys and the named
cross-field rules) and this module turns it into frozen dataclasses. A bad file is
refused with CourseFileError naming the file, the key path and the problem.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from diffcourse_staff import course_schema as schema
from diffcourse_staff.course_schema import (  # noqa: F401 (re-exported)
    ASSIGNMENT_KINDS,
    GRADING_SCHEMES,
    LATE_UNITS,
    PENALTY_BASES,
    WEEKDAYS,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_COURSE_FILE = REPO_ROOT / "course.yml"


class CourseFileError(ValueError):
    """Problems in the course file: the first one's key and problem, and all of them.

    `others` holds the further (key, problem) pairs found in the same pass, so that
    staff fix them in one go; they are listed after the first in the message.
    """

    def __init__(
        self, path: Path | str, key: str, problem: str, others: tuple[tuple[str, str], ...] = ()
    ):
        self.path, self.key, self.problem, self.others = Path(path), key, problem, others
        lines = [f"{path}: {key}: {problem}"] + [f"{path}: {k}: {p}" for k, p in others]
        super().__init__("\n".join(lines))


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
# Loading: the schema validates, then the file becomes the dataclasses above.


def load_course(path: Path | str = DEFAULT_COURSE_FILE) -> Course:
    """Read and validate the course file; raise CourseFileError naming every problem."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseFileError(path, "(file)", "course file not found") from None
    except yaml.YAMLError as e:
        raise CourseFileError(path, "(file)", f"not valid YAML: {e}") from None
    try:
        model = schema.CourseFile.model_validate(raw, context={"root": path.parent})
    except ValidationError as e:
        (key, problem), *others = schema.problems(e)
        raise CourseFileError(path, key, problem, tuple(others)) from None
    return _course(model, path)


def _build(cls, entry, **given):
    """A dataclass from the schema entry of the same fields (lists become tuples)."""
    values = {}
    for f in fields(cls):
        if f.name in given:
            values[f.name] = given[f.name]
        elif f.name in type(entry).model_fields:
            value = getattr(entry, f.name)
            values[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


def _grading(model: schema.CourseFile) -> tuple[tuple[GradingComponent, ...], GradingScheme]:
    g = model.grading
    components = tuple(
        _build(GradingComponent, c, weight=model.component_weight(c)) for c in g.components
    )
    if g.letter_cutoffs is not None:
        bands = sorted(
            (GradeBand(str(k), v) for k, v in g.letter_cutoffs.items()), key=lambda b: -b.minimum
        )
    else:
        bands = [
            _build(GradeBand, b, component_minimums=tuple(b.component_minimums.items()))
            for b in g.bands
        ]
    parts = tuple(
        (
            a.id,
            tuple(_build(GradescopePart, p) for p in g.parts[a.id])
            if a.id in g.parts
            else (GradescopePart("score", gradescope=a.title),),
        )
        for a in model.assignments
    )
    scheme = GradingScheme(
        g.scheme, tuple(bands), g.default_below(), parts, tuple(g.ignore_gradescope)
    )
    return components, scheme


def _course(model: schema.CourseFile, path: Path) -> Course:
    c = model.course
    assignments = tuple(
        _build(Assignment, a, milestones=tuple(_build(Milestone, m) for m in a.milestones or ()))
        for a in model.assignments
    )
    components, scheme = _grading(model)
    return Course(
        path=path,
        code=c.code,
        title=c.title,
        term=c.term,
        timezone=c.timezone,
        start=c.start,
        end=c.end,
        description=c.description,
        audience=c.audience or "",
        prerequisites=tuple(c.prerequisites),
        objectives=tuple(c.objectives),
        meetings=tuple(_build(Meeting, m) for m in c.meetings),
        links=dict(c.links),
        staff=tuple(_build(StaffMember, s) for s in model.staff),
        lectures=tuple(_build(Lecture, lec) for lec in model.lectures),
        assignments=assignments,
        grading=components,
        letter_cutoffs={b.grade: b.minimum for b in scheme.bands},
        late_policy=_build(LatePolicy, model.late_policy),
        policies=model.policies.model_dump(exclude_unset=True),
        grading_scheme=scheme,
    )


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
