"""The mini project's data files, read with pydantic and checked against the course file.

Every problem raises ProjectDataError naming the file, the key and what is wrong:
a misspelled key, a rubric whose points do not add up to its milestone's points
in course.yml, a milestone without a rubric, an idea in an unknown track.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from diffcourse_staff.course import Assignment, Course
from diffcourse_staff.projects import PROJECTS_DIR

RUBRIC_FILE = PROJECTS_DIR / "rubric.yml"
IDEAS_FILE = PROJECTS_DIR / "ideas.yml"
PAPERS_FILE = PROJECTS_DIR / "papers.yml"

Text = Field(min_length=1)


class ProjectDataError(ValueError):
    """A problem in one of the mini project's data files, naming the file and the key."""

    def __init__(self, path: Path | str, key: str, problem: str):
        self.path, self.key, self.problem = Path(path), key, problem
        super().__init__(f"{path}: {key}: {problem}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Criterion(_Strict):
    id: str = Text
    name: str = Text
    points: int = Field(ge=1)
    partial_points: int = Field(ge=0)
    full: str = Text
    partial: str = Text
    none: str = Text

    @model_validator(mode="after")
    def _partial_below_full(self):
        if not 0 < self.partial_points < self.points:
            raise ValueError(
                f"partial_points ({self.partial_points}) must lie strictly between 0 and"
                f" points ({self.points})"
            )
        return self


class Rubric(_Strict):
    assignment: str = Text
    milestones: dict[str, tuple[Criterion, ...]]


class Track(_Strict):
    title: str = Text
    starter: str = Text


class Idea(_Strict):
    id: str = Text
    track: str = Text
    title: str = Text
    question: str = Text
    dataset: str = Text
    baseline: str = Text
    metric: str = Text


class Ideas(_Strict):
    tracks: dict[str, Track]
    ideas: tuple[Idea, ...]


class Paper(_Strict):
    id: str = Text
    title: str = Text
    authors: str = Text
    year: int = Field(ge=1900, le=2100)
    link: str = Field(pattern=r"^https://")
    topic: str = Text


class Presentations(_Strict):
    days: tuple[dt.date, ...] = Field(min_length=1)  # in order, inside the term
    per_day: int = Field(ge=1)
    minutes: int = Field(ge=1)


class Papers(_Strict):
    presentations: Presentations
    rubric: tuple[Criterion, ...] = Field(min_length=1)
    papers: tuple[Paper, ...] = Field(min_length=1)


def _read(path: Path, model: type[BaseModel]):
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectDataError(path, "(file)", "not found") from None
    except yaml.YAMLError as e:
        raise ProjectDataError(path, "(file)", f"not valid YAML: {e}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        raise ProjectDataError(path, key, err["msg"]) from None


def _unique(path: Path, key: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, item in enumerate(ids):
        if item in seen:
            raise ProjectDataError(path, f"{key}[{i}].id", f"duplicate id {item!r}")
        seen.add(item)


def project_assignment(course: Course, assignment_id: str) -> Assignment:
    try:
        a = course.assignment(assignment_id)
    except KeyError as e:
        raise ProjectDataError(course.path, "assignments", str(e.args[0])) from None
    if a.kind != "project" or not a.milestones:
        raise ProjectDataError(
            course.path, f"assignments.{a.id}", "is not a project with milestones"
        )
    return a


def load_rubric(course: Course, path: Path = RUBRIC_FILE) -> tuple[Assignment, Rubric]:
    """The rubric and its project; every milestone has one, with the milestone's points."""
    rubric = _read(path, Rubric)
    project = project_assignment(course, rubric.assignment)
    known = [m.id for m in project.milestones]
    for mid, criteria in rubric.milestones.items():
        if mid not in known:
            raise ProjectDataError(
                path,
                f"milestones.{mid}",
                f"no such milestone of {project.id} in course.yml (known: {', '.join(known)})",
            )
        _unique(path, f"milestones.{mid}", [c.id for c in criteria])
    for m in project.milestones:
        criteria = rubric.milestones.get(m.id)
        if not criteria:
            raise ProjectDataError(path, f"milestones.{m.id}", "the milestone has no rubric")
        total = sum(c.points for c in criteria)
        if total != m.points:
            raise ProjectDataError(
                path,
                f"milestones.{m.id}",
                f"criteria add up to {total} points, course.yml gives the milestone {m.points}",
            )
    return project, rubric


def load_ideas(path: Path = IDEAS_FILE) -> Ideas:
    ideas = _read(path, Ideas)
    _unique(path, "ideas", [i.id for i in ideas.ideas])
    for n, idea in enumerate(ideas.ideas):
        if idea.track not in ideas.tracks:
            raise ProjectDataError(
                path,
                f"ideas[{n}].track",
                f"unknown track {idea.track!r} (known: {', '.join(ideas.tracks)})",
            )
    for name, track in ideas.tracks.items():
        if not (PROJECTS_DIR / "starters" / track.starter).is_dir():
            raise ProjectDataError(path, f"tracks.{name}.starter", f"no starter {track.starter!r}")
    return ideas


def load_papers(course: Course, path: Path = PAPERS_FILE) -> Papers:
    papers = _read(path, Papers)
    _unique(path, "papers", [p.id for p in papers.papers])
    _unique(path, "rubric", [c.id for c in papers.rubric])
    days = papers.presentations.days
    for i, day in enumerate(days):
        if not course.start <= day <= course.end:
            raise ProjectDataError(
                path,
                f"presentations.days[{i}]",
                f"{day} is outside the term ({course.start} to {course.end})",
            )
        if i and day <= days[i - 1]:
            raise ProjectDataError(path, f"presentations.days[{i}]", "days must be in date order")
    return papers
