"""Copy a starter kit: the track's files, the common tools and the report template.

A starter is mini_projects/starters/<track>/ plus mini_projects/starters/common/
(the report builder and the results table) plus mini_projects/report-template.md
as report.md: one source for what every starter shares.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from diffcourse.projects import PROJECTS_DIR

STARTERS_DIR = PROJECTS_DIR / "starters"
EXAMPLE = "example"  # the worked example, copied like a starter (its own report.md)
COMMON = "common"
TEMPLATE = PROJECTS_DIR / "report-template.md"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "runs", "results", "data", ".*")


def tracks() -> list[str]:
    return sorted(p.name for p in STARTERS_DIR.iterdir() if p.is_dir() and p.name != COMMON)


def _source(track: str) -> Path:
    return PROJECTS_DIR / EXAMPLE if track == EXAMPLE else STARTERS_DIR / track


def copy_starter(track: str, dest: Path) -> Path:
    """Copy the starter of `track` (or the worked example) into dest, a new or empty folder."""
    if track not in (*tracks(), EXAMPLE):
        known = ", ".join((*tracks(), EXAMPLE))
        raise ValueError(f"unknown track {track!r} (known: {known})")
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"{dest} exists and is not an empty folder: choose another DEST")
    shutil.copytree(STARTERS_DIR / COMMON, dest, ignore=IGNORE, dirs_exist_ok=True)
    if track != EXAMPLE:
        shutil.copy2(TEMPLATE, dest / "report.md")
    shutil.copytree(_source(track), dest, ignore=IGNORE, dirs_exist_ok=True)
    return dest
