"""Reproducibility check: rerun a project's `make reproduce` and compare its numbers.

The project (an unpacked code archive on a starter's layout: report.md with the
results table between its markers, a Makefile with `reproduce`) is copied to a
scratch folder, so the submission stays as handed in; `make reproduce` runs there
under a time limit; the table it rewrites is compared with the table the student's
report claims, row by row, within |claimed - reproduced| <= abs_tol + rel_tol *
|claimed|. The result is a one-page Markdown note for the graders.

Where it runs: on this machine by default. With DIFFCOURSE_PROJECT_CONTAINER set to
a container image (or `container=`), the command runs inside it instead, without
network, with the copy mounted at /project: `docker run --rm --network none -v
COPY:/project -w /project IMAGE make reproduce` (DIFFCOURSE_CONTAINER_ENGINE picks
docker or podman). That is the hook for the course's grading container.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from diffcourse_staff.projects.starter import COMMON, STARTERS_DIR

CONTAINER_ENV = "DIFFCOURSE_PROJECT_CONTAINER"
ENGINE_ENV = "DIFFCOURSE_CONTAINER_ENGINE"
LOG_TAIL_LINES = 15


def _results_table():
    path = STARTERS_DIR / COMMON / "results_table.py"
    spec = importlib.util.spec_from_file_location("diffcourse_results_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Row:
    key: str
    claimed: float | None
    reproduced: float | None
    ok: bool


@dataclass
class Note:
    project: str
    command: str
    limit_s: float
    wall_s: float = 0.0
    exit_status: int | None = None
    timed_out: bool = False
    problem: str = ""
    rows: list[Row] = field(default_factory=list)
    log_tail: str = ""
    rel_tol: float = 0.05
    abs_tol: float = 0.01

    @property
    def ok(self) -> bool:
        return not self.problem and bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def verdict(self) -> str:
        if self.ok:
            return "REPRODUCED"
        if self.problem:
            return "NOT REPRODUCED: " + self.problem
        bad = sum(not r.ok for r in self.rows)
        return f"NOT REPRODUCED: {bad} of {len(self.rows)} numbers differ"

    def markdown(self) -> str:
        fmt = lambda v: "missing" if v is None else f"{v:.4g}"
        lines = [
            f"# Reproducibility note: {self.project}",
            "",
            f"**{self.verdict}**",
            "",
            f"- Command: `{self.command}`, time limit {self.limit_s:.0f} s",
            f"- Ran for {self.wall_s:.0f} s; exit status "
            + ("none (stopped at the time limit)" if self.timed_out else str(self.exit_status)),
            f"- Tolerance: |claimed - reproduced| <= {self.abs_tol:g}"
            f" + {self.rel_tol:g} x |claimed|",
            "",
        ]
        if self.rows:
            lines += [
                "| Result | Claimed | Reproduced | Within tolerance |",
                "| --- | ---: | ---: | --- |",
            ]
            for r in self.rows:
                key = r.key.replace("|", "\\|")
                verdict = "yes" if r.ok else "**no**"
                lines.append(f"| {key} | {fmt(r.claimed)} | {fmt(r.reproduced)} | {verdict} |")
            lines.append("")
        if self.log_tail and not self.ok:
            lines += ["Last lines of the run:", "", "```text", self.log_tail, "```", ""]
        return "\n".join(lines)


def container_command(image: str, folder: Path, engine: str | None = None) -> list[str]:
    """The command that runs `make reproduce` in the grading container, offline."""
    engine = engine or os.environ.get(ENGINE_ENV) or "docker"
    return [
        engine, "run", "--rm", "--network", "none",
        "-v", f"{Path(folder).resolve()}:/project", "-w", "/project",
        image, "make", "reproduce",
    ]  # fmt: skip


def compare(claimed: dict[str, float], reproduced: dict[str, float], rel_tol, abs_tol) -> list[Row]:
    rows = []
    for key in list(claimed) + [k for k in reproduced if k not in claimed]:
        a, b = claimed.get(key), reproduced.get(key)
        ok = a is not None and b is not None and abs(a - b) <= abs_tol + rel_tol * abs(a)
        rows.append(Row(key, a, b, ok))
    return rows


def check_project(
    project: Path,
    limit_s: float = 1800,
    rel_tol: float = 0.05,
    abs_tol: float = 0.01,
    container: str | None = None,
    make: str = "make",
    env: dict | None = None,
) -> Note:
    """Run `make reproduce` on a copy of the project and compare; the project's faults go
    into the note (never an exception). Locally, `python` is this interpreter (PY=...)."""
    project = Path(project)
    container = container or os.environ.get(CONTAINER_ENV)
    table = _results_table()
    note = Note(project.name, "make reproduce", limit_s, rel_tol=rel_tol, abs_tol=abs_tol)
    report = project / "report.md"
    if not (project / "Makefile").is_file() or not report.is_file():
        note.problem = "the archive needs report.md and a Makefile with a `reproduce` target"
        return note
    try:
        claimed = table.read(report)
    except ValueError as e:
        note.problem = f"the report's results table cannot be read ({e})"
        return note
    with tempfile.TemporaryDirectory(prefix="reproduce-") as tmp:
        copy = Path(tmp) / project.name
        shutil.copytree(
            project, copy, ignore=shutil.ignore_patterns("runs", "results", "__pycache__")
        )
        local = [make, "reproduce", f"PY={sys.executable}"]
        cmd = container_command(container, copy) if container else local
        note.command = " ".join(cmd) if container else "make reproduce"
        start = time.monotonic()
        try:
            proc = subprocess.run(
                cmd, cwd=copy, capture_output=True, text=True, timeout=limit_s,
                env={**os.environ, **(env or {})},
            )  # fmt: skip
            note.exit_status = proc.returncode
            output = proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as e:
            note.timed_out = True
            output = (e.stdout or b"").decode(errors="replace") + (e.stderr or b"").decode(
                errors="replace"
            )
        note.wall_s = time.monotonic() - start
        note.log_tail = "\n".join(output.replace("\r", "\n").splitlines()[-LOG_TAIL_LINES:])
        if note.timed_out:
            note.problem = f"`make reproduce` ran past the time limit of {limit_s:.0f} s"
            return note
        if note.exit_status != 0:
            note.problem = f"`make reproduce` failed (exit status {note.exit_status})"
            return note
        try:
            reproduced = table.read(copy / "report.md")
        except ValueError as e:
            note.problem = f"the reproduced results table cannot be read ({e})"
            return note
    note.rows = compare(claimed, reproduced, rel_tol, abs_tol)
    return note
