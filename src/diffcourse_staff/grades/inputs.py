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

With both layouts, the per-assignment export of a part (it has Status) must agree with
the gradebook score by score. A student of the roster with no row in an export counts
as Missing there (and the staff
summary lists it); a row for a student not on the roster is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from diffcourse_staff.course import Course, GradescopePart
from diffcourse_staff.grades.errors import GradesInputError
from diffcourse_staff.grades.lateness import parse_lateness, parse_submission_time

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
EXTENSION_COLUMNS = ("SID", "Assignment", "Extra Days", "Excused")
TRUE_WORDS, FALSE_WORDS = {"yes", "y", "true", "1", "x"}, {"", "no", "n", "false", "0"}


@dataclass(frozen=True)
class PartScore:
    """One student's row for one part: score None means Missing or not graded yet."""

    score: float | None
    status: str  # Graded | Ungraded | Missing
    lateness_s: int
    submitted: str
    source: str  # "file, row N"


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


def slug(name: str) -> str:
    """A Gradescope assignment name as its export file names it, normalised."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def read_csv(path: Path) -> pd.DataFrame:
    """Every cell as text (SIDs keep their leading zeros; blanks stay blank)."""
    try:
        # utf-8-sig: exports opened and saved in a spreadsheet often start with a BOM.
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise GradesInputError(path, f"not a readable CSV file ({e})") from None
    df.columns = [str(c).strip() for c in df.columns]
    dupes = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dupes:
        raise GradesInputError(path, f"duplicate column(s): {', '.join(dupes)}", row=1)
    return df.apply(lambda col: col.str.strip())


def require_columns(path: Path, df: pd.DataFrame, columns: Iterable[str]) -> None:
    for c in columns:
        if c not in df.columns:
            raise GradesInputError(
                path, f"missing column (found: {', '.join(df.columns)})", row=1, column=c
            )


def _number(path: Path, row: int, column: str, text: str, minimum: float = 0.0) -> float:
    try:
        value = float(text)
    except ValueError:
        raise GradesInputError(path, f"not a number: {text!r}", row, column) from None
    if value != value or value < minimum:
        raise GradesInputError(
            path, f"must be a number of at least {minimum:g}: {text!r}", row, column
        )
    return value


def _sid(path: Path, row: int, text: str) -> str:
    if not text:
        raise GradesInputError(path, "empty SID", row, "SID")
    return text


def _check_unique_sids(path: Path, sids: Iterable[str]) -> None:
    first: dict[str, int] = {}
    for i, sid in enumerate(sids):
        row = i + 2
        sid = _sid(path, row, sid)
        if sid in first:
            raise GradesInputError(
                path, f"duplicate SID {sid!r} (also row {first[sid]})", row, "SID"
            )
        first[sid] = row


def _names(df: pd.DataFrame) -> pd.Series:
    if "Name" in df.columns:
        return df["Name"]
    if "First Name" in df.columns and "Last Name" in df.columns:
        return (df["First Name"] + " " + df["Last Name"]).str.strip()
    return pd.Series([""] * len(df), index=df.index)


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
    _check_unique_sids(path, df["SID"])
    roster = pd.DataFrame({"SID": df["SID"], "Name": _names(df), "Email": df["Email"]})
    return roster.set_index("SID"), notes


# ----------------------------------------------------------------- Gradescope exports


def _part_index(course: Course) -> dict[str, tuple[str, GradescopePart]]:
    """Gradescope assignment name -> (assignment id, part)."""
    index = {}
    for aid, parts in course.grading_scheme.parts:
        for p in parts:
            if p.gradescope is not None:
                index[p.gradescope] = (aid, p)
    return index


def _is_gradebook(df: pd.DataFrame) -> bool:
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
    _check_unique_sids(path, df["SID"])
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 2
        sid = rec["SID"]
        out.on_roster(path, row, sid)
        out.set_max(
            path, row, "Max Points", aid, part, _number(path, row, "Max Points", rec["Max Points"])
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
            score = _number(path, row, "Total Score", rec["Total Score"])
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
    _check_unique_sids(path, df["SID"])
    index = _part_index(course)
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
                _number(path, row, name + " - Max Points", rec[name + " - Max Points"]),
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
                value = _number(path, row, name, text)
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
        _check_unique_sids(path, df[sid_col])
        out.claim(path, aid, p.part, "the container's scores")
        for i, (sid, total) in enumerate(zip(df[sid_col], df[total_col], strict=True)):
            row = i + 2
            out.on_roster(path, row, sid)
            if total == "":
                continue  # not graded by the container: the replaced part stands
            value = _number(path, row, total_col, total)
            out.add(
                sid,
                aid,
                p.part,
                PartScore(value, "Graded", 0, "", f"{path.parent.name}/{path.name}, row {row}"),
            )


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
    _check_unique_sids(path, df["SID"])
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 2
        if rec["SID"] not in roster.index:
            raise GradesInputError(path, f"SID {rec['SID']!r} is not on the roster", row, "SID")
        for c in components:
            text = rec[c.name]
            value = None if text == "" else _number(path, row, c.name, text)
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
        sid = _sid(path, row, rec["SID"])
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
        extra = 0 if days == "" else _number(path, row, "Extra Days", days)
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
    gradebooks = [(p, df) for p, df in frames if _is_gradebook(df)]

    notes: list[str] = []
    roster_path = folder / "roster.csv"
    if roster_path.is_file():
        roster, roster_notes = read_roster(roster_path)
        notes += roster_notes
    elif gradebooks:
        path, df = gradebooks[0]
        require_columns(path, df, ("SID", "Email"))
        _check_unique_sids(path, df["SID"])
        roster = pd.DataFrame(
            {"SID": df["SID"], "Name": _names(df), "Email": df["Email"]}
        ).set_index("SID")
        notes.append(f"roster: the students of the gradebook export {path.name}")
    else:
        raise GradesInputError(
            roster_path, "not found, and no gradebook export to take the roster from"
        )

    out = _Collector(roster)
    index = _part_index(course)
    by_slug = {slug(name): name for name in index}
    ignore = {slug(n) for n in course.grading_scheme.ignore_gradescope}
    for path, df in gradebooks:  # first: a per-assignment export then refines a part
        _read_gradebook(path, df, course, out)
    for path, df in frames:
        if _is_gradebook(df):
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

    # Every part that must come from Gradescope has a source; every student has a row.
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
                        folder / "container" / file,
                        f"total {s.score:g} is more than the Max Points {maximum:g} of the part"
                        f" it replaces ({p.replaces!r})",
                        int(row),
                        "total",
                    )
    return Inputs(
        roster=roster,
        scores=out.scores,
        max_points={k: v[0] for k, v in out.max_points.items()},
        participation=_read_participation(folder / "participation.csv", course, roster, notes),
        extensions=_read_extensions(folder / "extensions.csv", course, roster),
        notes=notes,
    )
