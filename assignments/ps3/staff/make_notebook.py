"""Write assignments/ps3/ps3.ipynb from the cell texts in assignments/ps3/staff/cells/.

The notebook is the source the release pipeline reads; this script is how staff
author it, so that every cell is a plain text file that diffs and reviews well.
Edit the files in cells/ and run

    .venv/bin/python assignments/ps3/staff/make_notebook.py

Each file in cells/ holds several cells separated by lines of the form
`%% md`, `%% code` or `%% raw`; files are read in name order. Upper-case names
listed in PARAMS (the score-distillation settings, tuned on the pretrained
model) and the grading profiles of grading_profiles.yml are replaced by their
values everywhere, hidden tests included, so that the notebook and its tests
cannot drift apart. The notebook is then formatted
with ruff, as `make lint` expects.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE.parent / "ps3.ipynb"
SEPARATOR = re.compile(r"^%% (md|code|raw)\s*$", re.MULTILINE)

# Score distillation settings (see staff/README.md for how they were chosen).
PARAMS = {
    "SDS_ITERS": "100",
    "SDS_TEST_ITERS": "60",
    "SDS_LR": "0.1",
    "SDS_W": "4.0",
    "SDS_TMIN": "20",
    "SDS_TMAX": "980",
    "SDS3D_ITERS": "150",
    "SDS3D_LR": "0.2",
    "SDS3D_W": "4.0",
}


# Sampling-quality checks per grading profile (cpu on Gradescope, scale on a GPU grader):
# grading_profiles.yml's entry `q1b` replaces Q1B_PROFILES, and so on.
PROFILES_FILE = HERE / "grading_profiles.yml"


def profiles(path: Path = PROFILES_FILE) -> dict[str, str]:
    """Placeholder -> Python literal of each check's {profile: settings}; both profiles set."""
    data = yaml.safe_load(path.read_text())
    out = {}
    for check, by_profile in data.items():
        if set(by_profile) != {"cpu", "scale"}:
            raise ValueError(f"{path}: {check} must set exactly the profiles cpu and scale")
        out[f"{check.upper()}_PROFILES"] = repr(by_profile)
    return out


def substitute(text: str, extra: dict[str, str] | None = None) -> str:
    for name, value in (PARAMS | profiles() | (extra or {})).items():
        text = re.sub(rf"\b{name}\b", value, text)
    return text


def read_cells(folder: Path) -> list:
    """Parse every cells/*.txt file into notebook cells, in file-name order."""
    cells = []
    for path in sorted(folder.glob("*.txt")):
        text = substitute(path.read_text())
        parts = SEPARATOR.split(text)
        if parts[0].strip():
            raise ValueError(f"{path}: text before the first '%% kind' line")
        for kind, body in zip(parts[1::2], parts[2::2], strict=True):
            body = body.strip("\n")
            if not body.strip():
                raise ValueError(f"{path}: empty {kind} cell")
            if kind == "md":
                cells.append(nbformat.v4.new_markdown_cell(body))
            elif kind == "code":
                cells.append(nbformat.v4.new_code_cell(body))
            else:
                cells.append(nbformat.v4.new_raw_cell(body))
    return cells


def build() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = read_cells(HERE / "cells")
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for cell in nb.cells:  # stable ids keep diffs small
        cell.pop("id", None)
    nb.nbformat, nb.nbformat_minor = 4, 4
    return nb


def main() -> int:
    nb = build()
    nbformat.write(nb, NOTEBOOK)
    ruff = Path(sys.executable).parent / "ruff"
    if ruff.exists():
        # The repository's style (`make lint` checks notebooks too). Message texts must
        # still not contain a double quote character: the release linter refuses it.
        subprocess.run([str(ruff), "format", "-q", str(NOTEBOOK)], check=True)
    print(f"wrote {NOTEBOOK} ({len(nb.cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
