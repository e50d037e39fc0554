"""Part scores from Gradescope's exports and the grading container's scores.csv.

Gradescope gives a part's scores in a per-assignment "Download Grades" CSV (with
Status) or in the course gradebook export (column groups per assignment); the GPU
grading container gives a scores.csv per assignment that replaces a part. With both
Gradescope layouts, the per-assignment export must agree with the gradebook score by
score. A student of the roster with no row in an export counts as Missing there; a
row for a student not on the roster is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from diffcourse_staff.course import Course, GradescopePart
from diffcourse_staff.grades.errors import GradesInputError
from diffcourse_staff.grades.lateness import parse_lateness, parse_submission_time
from diffcourse_staff.grades.tables import (
    check_unique_sids,
    number,
    read_csv,
    require_columns,
    slug,
)

STATUSES = ("Graded", "Ungraded", "Missing")
PER_ASSIGNMENT_COLUMNS = (
    "SID",
    "Email",
    "Total Score",
    "Max Points",
    "Status",
    "Submission Time",
    "Lateness (H:M:S)",
)
GRADEBOOK_SUFFIXES = (" - Max Points", " - Submission Time", " - Lateness (H:M:S)")


@dataclass(frozen=True)
class PartScore:
    """One student's row for one part: score None means Missing or not graded yet."""

    score: float | None
    status: str  # Graded | Ungraded | Missing
    lateness_s: int
    submitted: str
    source: str  # "file, row N"


def part_index(course: Course) -> dict[str, tuple[str, GradescopePart]]:
    """Gradescope assignment name -> (assignment id, part)."""
    index = {}
    for aid, parts in course.grading_scheme.parts:
        for p in parts:
            if p.gradescope is not None:
                index[p.gradescope] = (aid, p)
    return index


def is_gradebook(df: pd.DataFrame) -> bool:
    return "Total Score" not in df.columns and any(c.endswith(" - Max Points") for c in df.columns)


class _Collector:
    """Gathers part scores from every source, refusing conflicts and strangers."""

    def __init__(self, roster: pd.DataFrame):
        self.roster = roster
        self.scores: dict[tuple[str, str, str], PartScore] = {}
        self.max_points: dict[tuple[str, str], tuple[float, str]] = {}
        self.sources: dict[tuple[str, str], str] = {}  # (aid, part) -> file that gave it
        self.from_gradebook: set[tuple[str, str]] = set()
        self.checked: list[str] = []

    def claim(self, path: Path, aid: str, part: str, what: str, gradebook: bool = False) -> None:
        """Record where a part comes from. A per-assignment export may follow the gradebook
        (it has the Status column): it must then agree with it, score by score."""
        key = (aid, part)
        if key in self.sources and (gradebook or key not in self.from_gradebook):
            raise GradesInputError(
                path, f"{what} is also given by {self.sources[key]}: keep one of the two"
            )
        if key in self.sources:
            self.from_gradebook.discard(key)
            self.checked.append(f"{what}: {path.name} agrees with {self.sources[key]}")
        elif gradebook:
            self.from_gradebook.add(key)
        self.sources[key] = path.name

    def set_max(self, path: Path, row: int, column: str, aid: str, part: str, value: float):
        known = self.max_points.get((aid, part))
        if known is not None and abs(known[0] - value) > 1e-9:
            raise GradesInputError(
                path,
                f"Max Points {value:g} for {aid} part {part!r} differs from"
                f" {known[0]:g} ({known[1]})",
                row,
                column,
            )
        if known is None:
            self.max_points[(aid, part)] = (value, f"{path.name}, row {row}")

    def on_roster(self, path: Path, row: int, sid: str) -> None:
        if sid not in self.roster.index:
            raise GradesInputError(path, f"SID {sid!r} is not on the roster", row, "SID")

    def add(self, sid: str, aid: str, part: str, score: PartScore) -> None:
        self.scores[(sid, aid, part)] = score


def _read_per_assignment(path: Path, df: pd.DataFrame, aid: str, part: str, out: _Collector):
    require_columns(path, df, PER_ASSIGNMENT_COLUMNS)
    check_unique_sids(path, df["SID"])
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 2
        sid = rec["SID"]
        out.on_roster(path, row, sid)
        out.set_max(
            path, row, "Max Points", aid, part, number(path, row, "Max Points", rec["Max Points"])
        )
        status = rec["Status"]
        if status not in STATUSES:
            raise GradesInputError(
                path, f"unknown status {status!r} (expected {', '.join(STATUSES)})", row, "Status"
            )
        try:
            parse_submission_time(rec["Submission Time"])
        except ValueError as e:
            raise GradesInputError(path, str(e), row, "Submission Time") from None
        try:
            lateness = parse_lateness(rec["Lateness (H:M:S)"])
        except ValueError as e:
            raise GradesInputError(path, str(e), row, "Lateness (H:M:S)") from None
        score = None
        if status == "Graded":
            score = number(path, row, "Total Score", rec["Total Score"])
        if status == "Missing":
            lateness = 0
        before = out.scores.get((sid, aid, part))
        if (
            before is not None
            and before.score is not None
            and (score is None or abs(score - before.score) > 1e-9)
        ):
            raise GradesInputError(
                path,
                f"{rec['Total Score'] or status} differs from {before.score:g} in the gradebook"
                f" export ({before.source}): download both again",
                row,
                "Total Score",
            )
        out.add(
            sid,
            aid,
            part,
            PartScore(score, status, lateness, rec["Submission Time"], f"{path.name}, row {row}"),
        )


def _read_gradebook(path: Path, df: pd.DataFrame, course: Course, out: _Collector) -> list[str]:
    require_columns(path, df, ("SID",))
    check_unique_sids(path, df["SID"])
    index = part_index(course)
    ignore = set(course.grading_scheme.ignore_gradescope)
    names = [c[: -len(" - Max Points")] for c in df.columns if c.endswith(" - Max Points")]
    used = []
    for name in names:
        if name in ignore:
            continue
        if name not in index:
            raise GradesInputError(
                path,
                f"Gradescope assignment {name!r} is not in course.yml (grading.parts, or an"
                " assignment title); list it under grading.ignore_gradescope to leave it out",
                1,
                name,
            )
        require_columns(path, df, [name] + [name + s for s in GRADEBOOK_SUFFIXES])
        aid, p = index[name]
        out.claim(path, aid, p.part, f"Gradescope assignment {name!r}", gradebook=True)
        used.append(name)
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 2
        sid = rec["SID"]
        out.on_roster(path, row, sid)
        for name in used:
            aid, p = index[name]
            out.set_max(
                path,
                row,
                name + " - Max Points",
                aid,
                p.part,
                number(path, row, name + " - Max Points", rec[name + " - Max Points"]),
            )
            try:
                parse_submission_time(rec[name + " - Submission Time"])
            except ValueError as e:
                raise GradesInputError(path, str(e), row, name + " - Submission Time") from None
            try:
                lateness = parse_lateness(rec[name + " - Lateness (H:M:S)"])
            except ValueError as e:
                raise GradesInputError(path, str(e), row, name + " - Lateness (H:M:S)") from None
            text = rec[name]
            if text == "":
                score = PartScore(None, "Missing", 0, "", f"{path.name}, row {row}")
            else:
                value = number(path, row, name, text)
                score = PartScore(
                    value,
                    "Graded",
                    lateness,
                    rec[name + " - Submission Time"],
                    f"{path.name}, row {row}",
                )
            out.add(sid, aid, p.part, score)
    return used


def _read_container(folder: Path, course: Course, out: _Collector) -> None:
    container_parts = {
        aid: p for aid, parts in course.grading_scheme.parts for p in parts if p.container
    }
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        rel = path.relative_to(folder)
        if len(rel.parts) != 2 or rel.name != "scores.csv":
            raise GradesInputError(path, "expected container/<assignment id>/scores.csv")
        aid = rel.parts[0]
        if aid not in container_parts:
            raise GradesInputError(
                path,
                f"no part of {aid!r} takes the container's scores in course.yml"
                f" (grading.parts.{aid}: a part with container: true); known: "
                + (", ".join(sorted(container_parts)) or "none"),
            )
        p = container_parts[aid]
        df = read_csv(path)
        lower = {c.lower(): c for c in df.columns}
        for need in ("sid", "total"):
            if need not in lower:
                raise GradesInputError(
                    path, f"missing column (found: {', '.join(df.columns)})", 1, need
                )
        sid_col, total_col = lower["sid"], lower["total"]
        check_unique_sids(path, df[sid_col])
        out.claim(path, aid, p.part, "the container's scores")
        for i, (sid, total) in enumerate(zip(df[sid_col], df[total_col], strict=True)):
            row = i + 2
            out.on_roster(path, row, sid)
            if total == "":
                continue  # not graded by the container: the replaced part stands
            value = number(path, row, total_col, total)
            out.add(
                sid,
                aid,
                p.part,
                PartScore(value, "Graded", 0, "", f"{path.parent.name}/{path.name}, row {row}"),
            )


def read_part_scores(
    course: Course, folder: Path, frames: list[tuple[Path, pd.DataFrame]], roster: pd.DataFrame
) -> tuple[dict, dict[tuple[str, str], float], list[str]]:
    """Every part score of the exports and the container, checked against each other.

    Returns the scores by (SID, assignment id, part), the Max Points by (assignment id,
    part) and notes for staff (what counted as Missing, which exports agreed).
    """
    gs_dir = folder / "gradescope"
    notes: list[str] = []
    out = _Collector(roster)
    gradebooks = [(p, df) for p, df in frames if is_gradebook(df)]
    index = part_index(course)
    by_slug = {slug(name): name for name in index}
    ignore = {slug(n) for n in course.grading_scheme.ignore_gradescope}
    for path, df in gradebooks:  # first: a per-assignment export then refines a part
        _read_gradebook(path, df, course, out)
    for path, df in frames:
        if is_gradebook(df):
            continue
        if "Total Score" not in df.columns:
            raise GradesInputError(
                path,
                "not a Gradescope export: no 'Total Score' column (per-assignment \"Download"
                " Grades\") and no '<assignment> - Max Points' columns (gradebook export)",
                1,
            )
        stem = slug(path.stem)
        stem = stem[: -len("_scores")] if stem.endswith("_scores") else stem
        if stem in ignore:
            continue
        if stem not in by_slug:
            raise GradesInputError(
                path,
                "the file name matches no Gradescope assignment of course.yml; expected one of: "
                + ", ".join(f"{slug(n)}_scores.csv" for n in sorted(index)),
            )
        name = by_slug[stem]
        aid, p = index[name]
        out.claim(path, aid, p.part, f"Gradescope assignment {name!r}")
        _read_per_assignment(path, df, aid, p.part, out)

    if (folder / "container").is_dir():
        _read_container(folder / "container", course, out)
    notes += out.checked

    notes += _fill_missing(course, roster, out, gs_dir)
    _check_replacing_max_points(course, out)
    _check_container_totals(course, roster, out, folder / "container")
    return out.scores, {k: v[0] for k, v in out.max_points.items()}, notes


def _fill_missing(course: Course, roster: pd.DataFrame, out: _Collector, gs_dir: Path) -> list:
    """Every Gradescope part has a source; a student of the roster without a row there
    counts as Missing (the notes say how many)."""
    notes = []
    for aid, parts in course.grading_scheme.parts:
        for p in parts:
            if (aid, p.part) not in out.sources:
                if p.container or p.replaces:
                    continue
                raise GradesInputError(
                    gs_dir,
                    f"no export gives Gradescope assignment {p.gradescope!r} ({aid}, part"
                    f' {p.part!r}): add its "Download Grades" CSV ({slug(p.gradescope)}'
                    "_scores.csv) or the gradebook export",
                )
            if p.container:
                continue
            absent = [sid for sid in roster.index if (sid, aid, p.part) not in out.scores]
            if absent and not p.replaces:
                notes.append(
                    f"{out.sources[(aid, p.part)]}: {len(absent)} student(s) of the roster have"
                    f" no row for {p.gradescope!r}: counted as Missing"
                )
            for sid in absent:
                if not p.replaces:
                    out.add(
                        sid, aid, p.part, PartScore(None, "Missing", 0, "", "no row in the export")
                    )
    return notes


def _check_replacing_max_points(course: Course, out: _Collector) -> None:
    """A Gradescope part that replaces another has the same Max Points."""
    for aid, parts in course.grading_scheme.parts:
        for p in parts:
            if p.replaces and (aid, p.part) in out.sources and not p.container:
                replaced = out.max_points.get((aid, p.replaces))
                mine = out.max_points.get((aid, p.part))
                if replaced and mine and abs(replaced[0] - mine[0]) > 1e-9:
                    raise GradesInputError(
                        out.sources[(aid, p.part)],
                        f"Max Points {mine[0]:g} differs from {replaced[0]:g} of the part it"
                        f" replaces ({replaced[1]})",
                    )


def _check_container_totals(
    course: Course, roster: pd.DataFrame, out: _Collector, folder: Path
) -> None:
    """The container's totals stay within the Max Points of the part they replace."""
    for aid, parts in course.grading_scheme.parts:
        for p in parts:
            if not p.container or (aid, p.replaces) not in out.max_points:
                continue
            maximum = out.max_points[(aid, p.replaces)][0]
            for sid in roster.index:
                s = out.scores.get((sid, aid, p.part))
                if s is not None and s.score is not None and s.score > maximum + 1e-9:
                    file, _, row = s.source.partition(", row ")
                    raise GradesInputError(
                        folder / file,
                        f"total {s.score:g} is more than the Max Points {maximum:g} of the part"
                        f" it replaces ({p.replaces!r})",
                        int(row),
                        "total",
                    )
