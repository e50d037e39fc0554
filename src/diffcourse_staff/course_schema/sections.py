"""The course:, staff:, lectures: and assignments: sections of course.yml."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from diffcourse_staff.course_schema.values import (
    ASSIGNMENT_KINDS,
    WEEKDAYS,
    AssignmentId,
    Count,
    Date,
    DateTime,
    Email,
    Invalid,
    Section,
    Text,
    TimeZone,
    choice,
    unique,
)

# --------------------------------------------------------------------------
# course:, staff:, lectures:


class MeetingEntry(Section):
    kind: Text = Field(description="Lecture, Recitation, ...")
    days: list[choice("weekday", WEEKDAYS)] = Field(min_length=1)
    time: Text
    place: Text


class CourseInfo(Section):
    code: Text
    title: Text
    term: Text
    timezone: TimeZone = Field(description="IANA time zone of every date and time in the file")
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
    kind: choice("kind", ASSIGNMENT_KINDS)
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
        unique([m.id for m in self.milestones or ()], "id", "milestones", "id")
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
