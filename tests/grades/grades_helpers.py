"""Shared by the grade tests: the example schemes and a way to run the command on them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from diffcourse_staff.grades.cli import main

SCHEMES = Path(__file__).parent / "schemes"


def scheme_course(name: str) -> Path:
    return SCHEMES / name / "course.yml"


def copy_scheme(name: str, dest: Path) -> tuple[Path, Path]:
    """A writable copy of a scheme: (course file, input folder)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(SCHEMES / "placeholder.ipynb", dest / "placeholder.ipynb")
    shutil.copytree(SCHEMES / name, dest / name, ignore=shutil.ignore_patterns("out"))
    return dest / name / "course.yml", dest / name / "inputs"


def run_grades(course: Path, inputs: Path, out: Path, *extra: str) -> int:
    return main(["--course", str(course), "--inputs", str(inputs), "--out", str(out), *extra])


def final_grades(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "final_grades.csv", dtype={"SID": str}).set_index("SID")
