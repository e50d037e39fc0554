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
COMMON = "common"
TEMPLATE = PROJECTS_DIR / "report-template.md"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "runs", "results", "data", ".*")


def tracks() -> list[str]:
    return sorted(p.name for p in STARTERS_DIR.iterdir() if p.is_dir() and p.name != COMMON)


def copy_starter(track: str, dest: Path) -> Path:
    """Copy the starter of `track` into dest (which must not exist, or be empty)."""
    if track not in tracks():
        raise ValueError(f"unknown track {track!r} (known: {', '.join(tracks())})")
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"{dest} exists and is not an empty folder: choose another DEST")
    shutil.copytree(STARTERS_DIR / COMMON, dest, ignore=IGNORE, dirs_exist_ok=True)
    shutil.copytree(STARTERS_DIR / track, dest, ignore=IGNORE, dirs_exist_ok=True)
    shutil.copy2(TEMPLATE, dest / "report.md")
    return dest
