"""The course file's schema: pydantic models of course.yml, section by section.

Each model says which keys a section takes, their types and defaults (the JSON Schema
that `make course-schema` writes for staff's editors comes from these models), and
its cross-field rules as named validators: a rule raises `Invalid` with the key it
is about, relative to the model, so that `load_course` can name the exact key path
(`assignments[2].milestones[0].due`). The models describe the file as written;
`diffcourse_staff.course` turns a valid file into the objects the tools use.

Files named by the course file (lecture notes, notebooks) are checked relative to
the folder given as validation context `{"root": folder}`; without one they are not.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

ASSIGNMENT_KINDS = ("problem_set", "project", "exam", "presentation")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
GRADING_SCHEMES = ("percent", "points")
PENALTY_BASES = ("score", "points")
LATE_UNITS = {"day": 86400, "hour": 3600}


class Invalid(ValueError):
    """A broken rule: the problem, and the key it is about relative to the model."""

    def __init__(self, problem: str, *at: str | int):
        super().__init__(problem)
        self.problem, self.at = problem, at


# --------------------------------------------------------------------------
# Value types: each refuses a bad value with the message staff see.


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise Invalid(f"expected a date (YYYY-MM-DD), got a date and time {value}")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"not a valid date (YYYY-MM-DD): {value!r}") from None


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date) or ":" not in str(value):
        raise Invalid(f"needs a time as well, for example {value}T23:59")
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"not a valid date and time (YYYY-MM-DDTHH:MM): {value!r}") from None


def _choice(noun: str, options: tuple[str, ...]):
    """A text that must be one of options; the JSON Schema lists them."""

    def check(value: Any) -> Any:
        if value not in options:
            raise Invalid(f"unknown {noun} {value!r} (use {', '.join(options)})")
        return value

    return Annotated[Literal[options], BeforeValidator(check)]


def _email(value: str) -> str:
    if "@" not in value:
        raise Invalid(f"not an email address: {value!r}")
    return value


def _assignment_id(value: str) -> str:
    if not value.replace("_", "").isalnum() or not value.islower():
        raise Invalid(f"ids are lower-case letters, digits and _: {value!r}")
    return value


Text = Annotated[
    str, Field(min_length=1), BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v)
]
Date = Annotated[
    dt.date,
    BeforeValidator(_date),
    WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD"}),
]
DateTime = Annotated[
    dt.datetime,
    BeforeValidator(_datetime),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}",
            "description": "date and time in the course time zone, YYYY-MM-DDTHH:MM",
        }
    ),
]
Email = Annotated[Text, AfterValidator(_email), Field(json_schema_extra={"pattern": "@"})]
AssignmentId = Annotated[
    Text,
    AfterValidator(_assignment_id),
    Field(json_schema_extra={"pattern": "^[a-z0-9_]*[a-z][a-z0-9_]*$"}),
]
Count = Annotated[int, Field(ge=0)]


def _amount(minimum: float = 0, maximum: float | None = None, above: bool = False):
    """A number (int or float, kept as written) within limits; `above`: more than minimum."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(f"expected a number, got {value!r}")
        if above and value <= minimum:
            raise Invalid(f"must be more than {minimum:g}, got {value:g}")
        if value < minimum:
            raise Invalid(f"must be at least {minimum:g}, got {value:g}")
        if maximum is not None and value > maximum:
            raise Invalid(f"cannot exceed {maximum:g}, got {value:g}")
        return value

    limits = {"exclusiveMinimum" if above else "minimum": minimum}
    if maximum is not None:
        limits["maximum"] = maximum
    return Annotated[float, PlainValidator(check), WithJsonSchema({"type": "number", **limits})]


Amount = _amount()


class Section(BaseModel):
    """A mapping of known keys: a missing or unknown key is named with the keys allowed."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise Invalid(f"expected a mapping, got {type(data).__name__}")
        fields = cls.model_fields
        missing = sorted(n for n, f in fields.items() if f.is_required() and n not in data)
        if missing:
            raise Invalid(f"missing required key(s): {', '.join(missing)}")
        unknown = sorted(str(k) for k in data if k not in fields)
        if unknown:
            hints = [difflib.get_close_matches(k, list(fields), n=1) for k in unknown]
            close = [f"'{h[0]}'" for h in hints if h]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            allowed = ", ".join(sorted(fields))
            raise Invalid(f"unknown key(s): {', '.join(unknown)} (allowed: {allowed}){hint}")
        return data


def _unique(values: list, what: str, where: str, field: str) -> None:
    """Refuse the first value seen before, naming the key of its list entry."""
    seen = set()
    for i, value in enumerate(values):
        if value in seen:
            raise Invalid(f"duplicate {what} {value!r}", *where.split("."), i, field)
        seen.add(value)


# --------------------------------------------------------------------------
# course:, staff:, lectures:


class MeetingEntry(Section):
    kind: Text = Field(description="Lecture, Recitation, ...")
    days: list[_choice("weekday", WEEKDAYS)] = Field(min_length=1)
    time: Text
    place: Text


class CourseInfo(Section):
    code: Text
    title: Text
    term: Text
    timezone: Text = Field(description="IANA time zone of every date and time in the file")
    start: Date
    end: Date
    description: Text
    meetings: list[MeetingEntry]
    audience: Text | None = None
    prerequisites: list[Text] = []
    objectives: list[Text] = []
    links: dict[str, str] = Field(
        {}, description="site, site_source, gradescope, forum, colab, ... (addresses)"
    )

    @model_validator(mode="after")
    def term_ends_after_it_starts(self):
        if self.end <= self.start:
            raise Invalid(f"ends ({self.end}) before it starts ({self.start})", "end")
        return self


class StaffEntry(Section):
    name: Text
    role: Text
    email: Email
    office_hours: Text


class LectureEntry(Section):
    id: Text
    date: Date
    title: Text
    notes: Text = Field(description="the lecture notes, relative to the course file")
    topics: list[Text] = Field(min_length=1)


# --------------------------------------------------------------------------
# assignments:


class MilestoneEntry(Section):
    id: Text
    title: Text
    due: DateTime
    points: Count
    deliverable: Text


class AssignmentEntry(Section):
    id: AssignmentId
    title: Text
    kind: _choice("kind", ASSIGNMENT_KINDS)
    release: DateTime
    due: DateTime
    points: Annotated[int, Field(ge=1)]
    notebook: Text | None = Field(
        None, description="the source notebook, relative to the course file (problem sets)"
    )
    cell_timeout: Annotated[int, Field(ge=1)] = Field(120, description="seconds per cell")
    call_timeout: Annotated[int, Field(ge=1)] = Field(
        60, description="seconds per call of a student function by the grading runner"
    )
    question_timeout: Annotated[int, Field(ge=1)] = Field(
        120, description="seconds for all the calls of one question"
    )
    memory_mb: Annotated[int, Field(ge=256)] = Field(1024, description="the grading worker's")
    milestones: list[MilestoneEntry] | None = Field(
        None,
        min_length=1,
        description="a project's dated hand-ins; points add up to the project's, "
        "and `due` is one of theirs (the final hand-in)",
    )

    @model_validator(mode="after")
    def due_after_release(self):
        if self.due <= self.release:
            raise Invalid(
                f"due date {self.due} is not after the release date {self.release}", "due"
            )
        return self

    @model_validator(mode="after")
    def problem_set_has_notebook(self):
        if self.kind == "problem_set" and self.notebook is None:
            raise Invalid("a problem set needs a notebook")
        return self

    @model_validator(mode="after")
    def only_projects_have_milestones(self):
        if self.milestones is not None and self.kind != "project":
            raise Invalid("only a project has milestones", "milestones")
        return self

    @model_validator(mode="after")
    def milestones_in_date_order_after_release(self):
        _unique([m.id for m in self.milestones or ()], "id", "milestones", "id")
        for i, m in enumerate(self.milestones or ()):
            if m.due <= self.release:
                raise Invalid(
                    f"{m.due} is not after the project's release {self.release}",
                    "milestones",
                    i,
                    "due",
                )
            if i and m.due <= self.milestones[i - 1].due:
                raise Invalid("milestones must be listed in date order", "milestones", i, "due")
        return self

    @model_validator(mode="after")
    def milestone_points_add_up(self):
        if self.milestones is not None:
            total = sum(m.points for m in self.milestones)
            if total != self.points:
                raise Invalid(
                    f"points add up to {total}, not the project's {self.points}", "milestones"
                )
        return self

    @model_validator(mode="after")
    def due_is_a_milestone(self):
        if self.milestones is not None and self.due not in {m.due for m in self.milestones}:
            raise Invalid(
                f"{self.due} is the due date of none of the milestones (the final hand-in)",
                "due",
            )
        return self

    @model_validator(mode="after")
    def question_timeout_covers_call_timeout(self):
        if self.question_timeout < self.call_timeout:
            raise Invalid("must be at least call_timeout", "question_timeout")
        return self


# --------------------------------------------------------------------------
# grading:


class ComponentEntry(Section):
    """A category of the final grade; one without assignments is scored from the
    participation CSV, out of its own `points`."""

    name: Text
    weight: Amount | None = Field(
        None, description="percent of the final grade (scheme percent) or points (scheme points)"
    )
    assignments: list[Text] = []
    drop_lowest: Count = 0
    points: _amount(above=True) = Field(100, description="only for a component without assignments")

    @model_validator(mode="after")
    def drop_lowest_keeps_one(self):
        refs, drop = self.assignments, self.drop_lowest
        if refs and drop >= len(refs):
            raise Invalid(
                f"drops {drop} of {len(refs)} assignments: keep at least one", "drop_lowest"
            )
        if drop and not refs:
            raise Invalid("a component without assignments has nothing to drop", "drop_lowest")
        return self

    @model_validator(mode="after")
    def own_points_only_without_assignments(self):
        if "points" in self.model_fields_set and self.assignments:
            raise Invalid(
                "only a component without assignments (scored from the participation CSV)"
                " has its own points",
                "points",
            )
        return self


class BandEntry(Section):
    """A final grade (Pass, Distinction...) and what it takes, in the scheme's unit."""

    grade: Text
    minimum: Amount
    component_minimums: dict[str, Amount] = Field(
        {}, description="component name -> the least it must reach on its own"
    )


class PartEntry(Section):
    """Where one part of an assignment's score comes from."""

    part: Text
    gradescope: Text | None = Field(None, description="the Gradescope assignment's name")
    container: bool = Field(False, description="the grading container's scores.csv")
    autograded: bool = False
    replaces: Text | None = Field(
        None, description="the part this one takes the place of, where it has a score"
    )

    @model_validator(mode="after")
    def gradescope_or_container(self):
        if (self.gradescope is not None) == self.container:
            raise Invalid("give either gradescope: <assignment name> or container: true")
        return self


class GradingSection(Section):
    scheme: _choice("scheme", GRADING_SCHEMES) = "percent"
    components: list[ComponentEntry]
    letter_cutoffs: dict[str, Amount] | None = Field(
        None, description="letter -> lowest percentage (or give bands)"
    )
    bands: list[BandEntry] | None = Field(None, description="best first (or give letter_cutoffs)")
    below: Text | None = Field(None, description="the grade under the lowest band (F, Fail)")
    parts: dict[str, Annotated[list[PartEntry], Field(json_schema_extra={"minItems": 1})]] = Field(
        {}, description="assignment id -> its parts; unlisted: one, named by its title"
    )
    ignore_gradescope: list[Text] = []

    @field_validator("components")
    @classmethod
    def has_components(cls, value):
        if not value:
            raise Invalid("expected a non-empty list of components")
        return value

    @model_validator(mode="after")
    def weights_given_unless_points(self):
        for i, comp in enumerate(self.components):
            if self.scheme == "percent" and comp.weight is None:
                raise Invalid("missing required key(s): weight", "components", i)
        return self

    @model_validator(mode="after")
    def component_names_unique(self):
        _unique([c.name for c in self.components], "component name", "components", "name")
        return self

    @model_validator(mode="after")
    def weights_add_up_to_100(self):
        if self.scheme != "percent":
            return self
        total = sum(c.weight for c in self.components)
        if abs(total - 100) > 1e-9:
            raise Invalid(f"weights add up to {total:g}, not 100", "components")
        return self

    @model_validator(mode="after")
    def one_kind_of_grade_bands(self):
        fields = self.model_fields_set
        if ("letter_cutoffs" in fields) == ("bands" in fields):
            raise Invalid(
                "give exactly one of letter_cutoffs (letters) and bands (e.g. Pass/Distinction)"
            )
        if "letter_cutoffs" in fields and not self.letter_cutoffs:
            raise Invalid("expected a mapping of letter to lowest percentage", "letter_cutoffs")
        if "bands" in fields and not self.bands:
            raise Invalid("expected a list of bands, best first", "bands")
        return self

    @model_validator(mode="after")
    def bands_best_first(self):
        for i, band in enumerate(self.bands or ()):
            if i and band.minimum > self.bands[i - 1].minimum:
                raise Invalid(
                    "bands are listed best first (minimums do not increase)", "bands", i, "minimum"
                )
        return self

    @model_validator(mode="after")
    def band_minimums_name_components(self):
        names = [c.name for c in self.components]
        for i, band in enumerate(self.bands or ()):
            for name in band.component_minimums:
                if name not in names:
                    raise Invalid(
                        f"unknown component {name!r} (known: {', '.join(names)})",
                        "bands",
                        i,
                        "component_minimums",
                    )
        _unique([b.grade for b in self.bands or ()], "grade", "bands", "grade")
        return self

    @model_validator(mode="after")
    def parts_replace_within_their_assignment(self):
        """Labels unique; a part replaces another part (no chains); the container's part
        replaces one (the replaced part's Max Points hold); one part at least replaces
        nothing; at most one container part."""
        for aid, parts in self.parts.items():
            _unique([p.part for p in parts], "part", f"parts.{aid}", "part")
            by_label = {p.part: p for p in parts}
            for i, p in enumerate(parts):
                if p.replaces is None:
                    if p.container:
                        raise Invalid(
                            "the container's scores replace a Gradescope part (its Max Points"
                            " hold)",
                            "parts",
                            aid,
                            i,
                            "replaces",
                        )
                    continue
                target = by_label.get(p.replaces)
                if target is None or target is p:
                    raise Invalid(
                        f"no other part {p.replaces!r} in {aid}", "parts", aid, i, "replaces"
                    )
                if target.replaces is not None:
                    raise Invalid(
                        f"{p.replaces!r} replaces a part itself: no chains",
                        "parts",
                        aid,
                        i,
                        "replaces",
                    )
            if sum(p.container for p in parts) > 1:
                raise Invalid("at most one container part per assignment", "parts", aid)
            if parts and all(p.replaces for p in parts):
                raise Invalid("needs at least one part that replaces nothing", "parts", aid)
        return self

    def default_below(self) -> str:
        return self.below or ("F" if self.letter_cutoffs is not None else "Fail")


# --------------------------------------------------------------------------
# late_policy:, policies:


class LatePolicyEntry(Section):
    free_late_days: Count = Field(description="free late units for the whole term")
    max_late_days_per_assignment: Count
    penalty_percent_per_day: _amount(maximum=100) = Field(
        description="per late unit past the free ones"
    )
    unit: _choice("unit", tuple(LATE_UNITS))
    grace_minutes: Count = 0
    penalty_basis: _choice("basis", PENALTY_BASES) = Field(
        "score", description="a late unit costs this percentage of the score, or of the points"
    )
    zero_after: Count | None = Field(
        None, description="late by more than this many units (after extensions): zero"
    )
    no_late_work: list[Text] = Field([], description="assignment ids that accept no late work")


class PoliciesSection(Section):
    """Policy paragraphs; {placeholders} are filled from this section."""

    collaboration: Text
    ai_use: Text
    regrades: Text
    regrade_window_days: Annotated[int, Field(ge=1)]
    accommodations: Text | None = None


# --------------------------------------------------------------------------
# The whole file.


class CourseFile(Section):
    """course.yml: the single source of truth for the offering."""

    model_config = ConfigDict(title="course.yml")

    course: CourseInfo
    staff: list[StaffEntry]
    lectures: list[LectureEntry]
    assignments: list[AssignmentEntry]
    grading: GradingSection
    late_policy: LatePolicyEntry
    policies: PoliciesSection

    @field_validator("staff")
    @classmethod
    def has_staff(cls, value):
        if not value:
            raise Invalid("the course needs at least one staff member")
        return value

    def _outside_term(self, day: dt.date) -> bool:
        return not self.course.start <= day <= self.course.end

    def _term(self) -> str:
        return f"({self.course.start} to {self.course.end})"

    @model_validator(mode="after")
    def lectures_inside_the_term(self):
        for i, lec in enumerate(self.lectures):
            if self._outside_term(lec.date):
                raise Invalid(
                    f"{lec.date} is outside the term {self._term()}", "lectures", i, "date"
                )
        return self

    @model_validator(mode="after")
    def lecture_notes_exist(self, info: ValidationInfo):
        root = (info.context or {}).get("root")
        for i, lec in enumerate(self.lectures):
            if root is not None and not (Path(root) / lec.notes).is_file():
                raise Invalid(f"no such file: {lec.notes}", "lectures", i, "notes")
        return self

    @model_validator(mode="after")
    def lectures_unique_in_date_order(self):
        _unique([lec.id for lec in self.lectures], "id", "lectures", "id")
        for i in range(1, len(self.lectures)):
            if self.lectures[i].date < self.lectures[i - 1].date:
                raise Invalid("lectures must be listed in date order", "lectures", i, "date")
        return self

    @model_validator(mode="after")
    def assignment_ids_unique(self):
        _unique([a.id for a in self.assignments], "id", "assignments", "id")
        return self

    @model_validator(mode="after")
    def assignments_inside_the_term(self):
        for i, a in enumerate(self.assignments):
            if self._outside_term(a.release.date()):
                raise Invalid(
                    f"{a.release.date()} is outside the term {self._term()}",
                    "assignments",
                    i,
                    "release",
                )
            for j, m in enumerate(a.milestones or ()):
                if m.due.date() > self.course.end:
                    raise Invalid(
                        f"{m.due.date()} is after the term ends ({self.course.end})",
                        "assignments",
                        i,
                        "milestones",
                        j,
                        "due",
                    )
        return self

    @model_validator(mode="after")
    def notebooks_exist(self, info: ValidationInfo):
        root = (info.context or {}).get("root")
        for i, a in enumerate(self.assignments):
            if root is not None and a.notebook and not (Path(root) / a.notebook).is_file():
                raise Invalid(f"no such file: {a.notebook}", "assignments", i, "notebook")
        return self

    @model_validator(mode="after")
    def components_name_known_assignments(self):
        known = {a.id for a in self.assignments}
        for i, comp in enumerate(self.grading.components):
            for j, ref in enumerate(comp.assignments):
                if ref not in known:
                    raise Invalid(
                        f"unknown assignment id {ref!r}",
                        "grading",
                        "components",
                        i,
                        "assignments",
                        j,
                    )
        return self

    @model_validator(mode="after")
    def every_assignment_counted_once(self):
        graded = [ref for comp in self.grading.components for ref in comp.assignments]
        for a in self.assignments:
            if graded.count(a.id) != 1:
                raise Invalid(
                    f"assignment {a.id!r} counts {graded.count(a.id)} times",
                    "grading",
                    "components",
                )
        return self

    def component_weight(self, comp: ComponentEntry) -> float:
        """The weight as given, or in the points scheme the points the component is worth."""
        if comp.weight is not None:
            return comp.weight
        if comp.assignments:
            points = {a.id: a.points for a in self.assignments}
            return float(sum(points[ref] for ref in comp.assignments))
        return comp.points

    @model_validator(mode="after")
    def bands_reachable(self):
        g = self.grading
        total = 100.0 if g.scheme == "percent" else sum(map(self.component_weight, g.components))
        grades = g.bands if g.bands is not None else []
        cutoffs = [(k, v) for k, v in (g.letter_cutoffs or {}).items()]
        for grade, minimum in [(b.grade, b.minimum) for b in grades] + cutoffs:
            if minimum > total:
                raise Invalid(
                    f"grade {grade!r} needs {minimum:g}, more than the total {total:g}", "grading"
                )
        return self

    @model_validator(mode="after")
    def parts_name_known_assignments(self):
        known = {a.id for a in self.assignments}
        for aid, parts in self.grading.parts.items():
            if aid not in known:
                raise Invalid(f"unknown assignment id {aid!r}", "grading", "parts", aid)
            if not parts:
                raise Invalid("expected a non-empty list of parts", "grading", "parts", aid)
        return self

    @model_validator(mode="after")
    def gradescope_names_unique(self):
        """A Gradescope assignment feeds one part: listed parts, or unlisted assignments'
        titles."""
        used = {
            a.title: f"assignments[{a.id}].title"
            for a in self.assignments
            if a.id not in self.grading.parts
        }
        for a in self.assignments:
            for i, p in enumerate(self.grading.parts.get(a.id, ())):
                if p.gradescope is None:
                    continue
                key = f"grading.parts.{a.id}[{i}]"
                if p.gradescope in used:
                    raise Invalid(
                        f"{p.gradescope!r} is already used by {used[p.gradescope]}",
                        "grading",
                        "parts",
                        a.id,
                        i,
                        "gradescope",
                    )
                used[p.gradescope] = key
        return self

    @model_validator(mode="after")
    def no_late_work_names_known_assignments(self):
        known = {a.id for a in self.assignments}
        for i, aid in enumerate(self.late_policy.no_late_work):
            if aid not in known:
                raise Invalid(f"unknown assignment id {aid!r}", "late_policy", "no_late_work", i)
        return self


# --------------------------------------------------------------------------
# Pydantic's errors as (key path, problem) in the course file's words.


def key_path(loc: tuple) -> str:
    """('assignments', 2, 'due') -> 'assignments[2].due'."""
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else f".{part}" if key else str(part)
    return key or "(top level)"


def _problem(error: dict) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if "error" in ctx:
        return str(ctx["error"])
    messages = {
        "string_type": f"expected text, got {value!r}",
        "string_too_short": f"expected non-empty text, got {value!r}",
        "int_type": f"expected a whole number, got {value!r}",
        "float_type": f"expected a number, got {value!r}",
        "bool_type": f"expected true or false, got {value!r}",
        "list_type": f"expected a list, got {value!r}",
        "dict_type": f"expected a mapping, got {value!r}",
        "too_short": "expected a non-empty list",
        "greater_than_equal": f"must be at least {ctx.get('ge')}, got {value!r}",
        "greater_than": f"must be more than {ctx.get('gt')}, got {value!r}",
        "less_than_equal": f"cannot exceed {ctx.get('le')}, got {value!r}",
    }
    return messages.get(kind, error["msg"])


def problems(err: ValidationError) -> list[tuple[str, str]]:
    """Every error of a validation, as (key path, problem), in the file's order."""
    out = []
    for error in err.errors():
        loc = tuple(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, Invalid):
            loc += cause.at
        out.append((key_path(loc), _problem(error)))
    return out


def json_schema() -> dict:
    """The JSON Schema of course.yml, for editors (YAML language server) and CI."""
    schema = CourseFile.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def main() -> None:
    """`python -m diffcourse_staff.course_schema OUT`: write the JSON Schema of course.yml."""
    if len(sys.argv) != 2:
        sys.exit("usage: python -m diffcourse_staff.course_schema OUT.json")
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(json_schema(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
