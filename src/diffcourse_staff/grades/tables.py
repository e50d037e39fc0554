"""Reading the grading inputs' CSV files: text cells, required columns, numbers, SIDs.

Every reader of grades/ goes through these, so that a bad cell is named the same
way everywhere: file, row (the spreadsheet's, header = 1) and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from diffcourse_staff.grades.errors import GradesInputError


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


def number(path: Path, row: int, column: str, text: str, minimum: float = 0.0) -> float:
    try:
        value = float(text)
    except ValueError:
        raise GradesInputError(path, f"not a number: {text!r}", row, column) from None
    if value != value or value < minimum:
        raise GradesInputError(
            path, f"must be a number of at least {minimum:g}: {text!r}", row, column
        )
    return value


def require_sid(path: Path, row: int, text: str) -> str:
    if not text:
        raise GradesInputError(path, "empty SID", row, "SID")
    return text


def check_unique_sids(path: Path, sids: Iterable[str]) -> None:
    first: dict[str, int] = {}
    for i, sid in enumerate(sids):
        row = i + 2
        sid = require_sid(path, row, sid)
        if sid in first:
            raise GradesInputError(
                path, f"duplicate SID {sid!r} (also row {first[sid]})", row, "SID"
            )
        first[sid] = row


def names(df: pd.DataFrame) -> pd.Series:
    if "Name" in df.columns:
        return df["Name"]
    if "First Name" in df.columns and "Last Name" in df.columns:
        return (df["First Name"] + " " + df["Last Name"]).str.strip()
    return pd.Series([""] * len(df), index=df.index)
