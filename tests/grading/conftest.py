"""Small autograders built on the fly, graded by the runner as Gradescope runs it.

`make_source` writes what a built zip holds (tests/ in Otter's OK format,
reference/, files/, grading_config.json); `grade` runs
`python -m diffcourse_grading.run` on a notebook in a subprocess and returns
results.json with the per-question view the tests assert on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "autograder"
sys.path.insert(0, str(RUNNER))  # the runner's package, for unit tests


def ok_test(name: str, cases: list[tuple[str, bool]], points: float) -> str:
    """An OK-format test file: cases are (python source, hidden)."""
    suites = []
    for code, hidden in cases:
        lines = []
        for i, line in enumerate(code.strip("\n").splitlines()):
            indented = line.startswith((" ", "\t")) or (i and line.startswith(("else", "elif")))
            lines.append(("... " if indented else ">>> ") + line)
        suites.append({"code": "\n".join(lines) + "\n", "hidden": hidden, "locked": False})
    spec = {"name": name, "points": points, "suites": [{"cases": suites, "type": "doctest"}]}
    return f"OK_FORMAT = True\n\ntest = {spec!r}\n"


def make_source(
    root: Path,
    tests: dict[str, list[tuple[str, bool]]],
    points: dict[str, float],
    reference: str = "",
    reference_names: dict[str, list[str]] | None = None,
    limits: dict | None = None,
    files: dict[str, str] | None = None,
) -> Path:
    src = root / "source"
    (src / "tests").mkdir(parents=True)
    for q, cases in tests.items():
        (src / "tests" / f"{q}.py").write_text(ok_test(q, cases, points[q]))
    (src / "reference").mkdir()
    (src / "reference" / "solutions.py").write_text(reference)
    (src / "reference" / "questions.json").write_text(json.dumps(reference_names or {}))
    (src / "files").mkdir()
    for name, text in (files or {}).items():
        (src / "files" / name).write_text(text)
    config = {"assignment": "hw", "questions": list(tests), "limits": limits or {}}
    (src / "grading_config.json").write_text(json.dumps(config))
    return src


def notebook(*cells: str) -> dict:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": c,
                "outputs": [],
                "execution_count": None,
            }
            for c in cells
        ],
    }


def grade(source: Path, submission: Path, out: Path, *extra: str, timeout: float = 900) -> dict:
    """Run the runner as Gradescope does; return results.json plus `_rc` and `_questions`."""
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.json"
    env = dict(os.environ, PYTHONPATH=str(RUNNER), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "diffcourse_grading.run", "--source", str(source)]
    cmd += ["--submission", str(submission), "--results", str(results), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    data = json.loads(results.read_text())
    data["_rc"] = proc.returncode
    data["_stderr"] = proc.stderr
    data["_questions"] = {
        t["name"]: t for t in data["tests"] if "max_score" in t
    }  # question -> its entry
    return data


@pytest.fixture
def write_notebook(tmp_path):
    def write(*cells: str, name: str = "hw.ipynb") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(notebook(*cells)))
        return path

    return write
