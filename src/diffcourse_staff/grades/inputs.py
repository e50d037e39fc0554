"""Read the grading inputs into one checked structure; refuse bad input by file, row, column.

The input folder (git-ignored `grades/` by default):

    roster.csv             Gradescope's roster export (SID, Email, Name or First/Last
                           Name, optional Role); optional when a gradebook export is given
    gradescope/*.csv       per-assignment "Download Grades" CSVs (named as Gradescope
                           names them, "<Assignment_name>_scores.csv") and/or the course
                           gradebook export (any name; recognised by its columns)
    container/<id>/scores.csv   the GPU grading container's scores (SID, total) for one
                           assignment, for the part of course.yml marked `container: true`
    participation.csv      SID and one column per component without assignments (points)
    extensions.csv         SID, Assignment, Extra Days, Excused (private; optional)

This module reads the roster, participation and extensions and puts everything
together; the part scores (Gradescope's two export layouts, the container's
scores.csv) are read by `exports`, and the CSV cells by `tables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from diffcourse_staff.course import Course
from diffcourse_staff.grades.errors import GradesInputError
from diffcourse_staff.grades.exports import PartScore, is_gradebook, read_part_scores
from diffcourse_staff.grades.tables import (
    check_unique_sids,
    names,
    number,
    read_csv,
    require_columns,
    require_sid,
)

__all__ = ["Extension", "Inputs", "PartScore", "read_inputs", "read_roster"]

EXTENSION_COLUMNS = ("SID", "Assignment", "Extra Days", "Excused")
TRUE_WORDS, FALSE_WORDS = {"yes", "y", "true", "1", "x"}, {"", "no", "n", "false", "0"}


@dataclass(frozen=True)
class Extension:
    extra_units: int = 0
    excused: bool = False


@dataclass
class Inputs:
    """Everything the engine grades from, keyed by SID (a string: leading zeros count)."""

    roster: pd.DataFrame  # index SID; columns Name, Email
    scores: dict[tuple[str, str, str], PartScore]  # (SID, assignment id, part) -> score
    max_points: dict[tuple[str, str], float]  # (assignment id, part) -> Max Points
    participation: dict[tuple[str, str], float | None]  # (SID, component) -> points
    extensions: dict[tuple[str, str], Extension]
    notes: list[str] = field(default_factory=list)  # for staff: what counted as Missing


# ----------------------------------------------------------------- roster


def read_roster(path: Path) -> tuple[pd.DataFrame, list[str]]:
    df = read_csv(path)
    require_columns(path, df, ("SID", "Email"))
    if "Name" not in df.columns and not {"First Name", "Last Name"} <= set(df.columns):
        raise GradesInputError(path, "missing column (or First Name and Last Name)", 1, "Name")
    notes = []
    if "Role" in df.columns:
        staff = df["Role"].str.lower() != "student"
        if staff.any():
            notes.append(f"{path.name}: {int(staff.sum())} non-student row(s) (Role) not graded")
        df = df[~staff]
    check_unique_sids(path, df["SID"])
    roster = pd.DataFrame({"SID": df["SID"], "Name": names(df), "Email": df["Email"]})
    return roster.set_index("SID"), notes


# ----------------------------------------------------------------- participation, extensions


def _read_participation(path: Path, course: Course, roster: pd.DataFrame, notes: list[str]):
    components = [c for c in course.grading if not c.assignments]
    result: dict[tuple[str, str], float | None] = {}
    if not components:
        return result
    if not path.is_file():
        raise GradesInputError(
            path,
            "not found: the component(s) "
            + ", ".join(repr(c.name) for c in components)
            + " are scored from it (SID and one column per component)",
        )
    df = read_csv(path)
    require_columns(path, df, ["SID"] + [c.name for c in components])
    check_unique_sids(path, df["SID"])
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 2
        if rec["SID"] not in roster.index:
            raise GradesInputError(path, f"SID {rec['SID']!r} is not on the roster", row, "SID")
        for c in components:
            text = rec[c.name]
            value = None if text == "" else number(path, row, c.name, text)
            if value is not None and value > c.points + 1e-9:
                raise GradesInputError(
                    path, f"{value:g} is more than the component's {c.points:g} points", row, c.name
                )
            result[(rec["SID"], c.name)] = value
    absent = [sid for sid in roster.index if (sid, components[0].name) not in result]
    if absent:
        notes.append(f"{path.name}: {len(absent)} student(s) have no row: counted as Missing (0)")
    return result


def _read_extensions(path: Path, course: Course, roster: pd.DataFrame) -> dict:
    result: dict[tuple[str, str], Extension] = {}
    if not path.is_file():
        return result
    df = read_csv(path)
    require_columns(path, df, EXTENSION_COLUMNS)
    known = {a.id for a in course.assignments}
    first: dict[tuple[str, str], int] = {}
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 2
        sid = require_sid(path, row, rec["SID"])
        if sid not in roster.index:
            raise GradesInputError(path, f"SID {sid!r} is not on the roster", row, "SID")
        aid = rec["Assignment"]
        if aid not in known:
            raise GradesInputError(
                path,
                f"unknown assignment id {aid!r} (known: {', '.join(sorted(known))})",
                row,
                "Assignment",
            )
        if (sid, aid) in first:
            raise GradesInputError(
                path,
                f"a second line for {sid} and {aid} (also row {first[(sid, aid)]})",
                row,
                "Assignment",
            )
        first[(sid, aid)] = row
        days = rec["Extra Days"]
        extra = 0 if days == "" else number(path, row, "Extra Days", days)
        if extra != int(extra):
            raise GradesInputError(
                path,
                f"extra days are whole {course.late_policy.unit}s: {days!r}",
                row,
                "Extra Days",
            )
        excused = rec["Excused"].lower()
        if excused not in TRUE_WORDS | FALSE_WORDS:
            raise GradesInputError(
                path, f"expected yes or no, got {rec['Excused']!r}", row, "Excused"
            )
        result[(sid, aid)] = Extension(int(extra), excused in TRUE_WORDS)
    return result


def read_inputs(course: Course, folder: Path) -> Inputs:
    """Read and check every input under folder; raise GradesInputError on the first problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GradesInputError(
            folder, "no such input folder (see `python -m diffcourse_staff.grades --help`)"
        )
    gs_dir = folder / "gradescope"
    exports = sorted(gs_dir.glob("*.csv")) if gs_dir.is_dir() else []
    frames = [(path, read_csv(path)) for path in exports]
    gradebooks = [(p, df) for p, df in frames if is_gradebook(df)]

    notes: list[str] = []
    roster_path = folder / "roster.csv"
    if roster_path.is_file():
        roster, roster_notes = read_roster(roster_path)
        notes += roster_notes
    elif gradebooks:
        path, df = gradebooks[0]
        require_columns(path, df, ("SID", "Email"))
        check_unique_sids(path, df["SID"])
        roster = pd.DataFrame(
            {"SID": df["SID"], "Name": names(df), "Email": df["Email"]}
        ).set_index("SID")
        notes.append(f"roster: the students of the gradebook export {path.name}")
    else:
        raise GradesInputError(
            roster_path, "not found, and no gradebook export to take the roster from"
        )

    scores, max_points, score_notes = read_part_scores(course, folder, frames, roster)
    notes += score_notes
    return Inputs(
        roster=roster,
        scores=scores,
        max_points=max_points,
        participation=_read_participation(folder / "participation.csv", course, roster, notes),
        extensions=_read_extensions(folder / "extensions.csv", course, roster),
        notes=notes,
    )
