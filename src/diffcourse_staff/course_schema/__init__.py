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
import json
import sys
from pathlib import Path

from pydantic import ConfigDict, ValidationInfo, field_validator, model_validator

from diffcourse_staff.course_schema.grading import (
    ComponentEntry,
    GradingSection,
    LatePolicyEntry,
    PoliciesSection,
)
from diffcourse_staff.course_schema.sections import (
    AssignmentEntry,
    CourseInfo,
    LectureEntry,
    StaffEntry,
)
from diffcourse_staff.course_schema.values import (
    ASSIGNMENT_KINDS,
    GRADING_SCHEMES,
    LATE_UNITS,
    PENALTY_BASES,
    WEEKDAYS,
    Invalid,
    Section,
    problems,
    unique,
)

__all__ = [
    "ASSIGNMENT_KINDS",
    "GRADING_SCHEMES",
    "LATE_UNITS",
    "PENALTY_BASES",
    "WEEKDAYS",
    "CourseFile",
    "Invalid",
    "json_schema",
    "problems",
    "rules",
]

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
        unique([lec.id for lec in self.lectures], "id", "lectures", "id")
        for i in range(1, len(self.lectures)):
            if self.lectures[i].date < self.lectures[i - 1].date:
                raise Invalid("lectures must be listed in date order", "lectures", i, "date")
        return self

    @model_validator(mode="after")
    def assignment_ids_unique(self):
        unique([a.id for a in self.assignments], "id", "assignments", "id")
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


def rules() -> dict[str, list[str]]:
    """Each section model's cross-field rules, by name, in the order they run."""
    out = {}
    for model in Section.__subclasses__():
        decorators = model.__pydantic_decorators__
        names = [*decorators.field_validators, *decorators.model_validators]
        names = [n for n in names if n != "known_keys"]
        if names:
            out[model.__name__] = names
    return out


def json_schema() -> dict:
    """The JSON Schema of course.yml, for editors (YAML language server) and CI.

    Declared draft-07, the newest draft the YAML language server supports; the
    keywords pydantic writes here are all draft-07 ones.
    """
    schema = CourseFile.model_json_schema()
    return {"$schema": "http://json-schema.org/draft-07/schema#", **schema}


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
