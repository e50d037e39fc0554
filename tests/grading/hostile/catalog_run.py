"""Grade the catalog's cases through both paths and judge them (used by the tests and
by matrix.py).

A `CatalogSession` builds ps1 and ps3 once (no gates, with solutions) into a
folder, grades each honest baseline once per path, and grades cases on demand.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from diffcourse_staff.release.layout import Layout

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
for p in (str(HERE), str(HERE.parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

import gradescope_harness as harness  # noqa: E402
from outcome import check_run, hidden_secrets, is_flagged, question_scores  # noqa: E402
from submissions import Case, Dist, build_base, build_submission, load_catalog  # noqa: E402

PATHS = ("gradescope", "local")
# A zip whose run_autograder calls the isolated runner (issue 11); otherwise the zip
# still grades with Otter inside the student's kernel.
RUNNER_ENTRY = "diffcourse_grading.run"


def build_dist(folder: Path, sets: tuple[str, ...] = ("ps1", "ps3")) -> Dist:
    """Build the sets' notebooks, zips and solutions into folder (about 10 s)."""
    cmd = [sys.executable, "-m", "diffcourse_staff.release", "build", "--no-gates", "--solutions"]
    for aid in sets:
        cmd += ["--only", aid]
    cmd += ["--dist", str(folder / "dist"), "--build", str(folder / "build")]
    subprocess.run(cmd, check=True, cwd=REPO, capture_output=True)
    return Dist(folder / "dist")


def zip_has_runner(zip_path: Path) -> bool:
    with zipfile.ZipFile(zip_path) as zf:
        entry = [n for n in ("run_autograder", "run_otter.py") if n in zf.namelist()]
        return any(RUNNER_ENTRY in zf.read(n).decode("utf-8", "replace") for n in entry)


def grade(path: str, zip_path: Path, submission: Path) -> harness.BoxRun:
    if path == "gradescope":
        return harness.grade_gradescope(zip_path, submission)
    if path == "local":
        return harness.grade_local(zip_path, submission)
    raise ValueError(f"unknown grading path {path!r}")


@dataclass
class CaseOutcome:
    case: Case
    path: str
    run: harness.BoxRun
    problems: list[str]
    questions: dict[str, float]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> dict:
        return {
            "case": self.case.id,
            "class": self.case.cls,
            "set": self.case.set,
            "path": self.path,
            "ok": self.ok,
            "wall_s": round(self.run.wall_s, 1),
            "returncode": self.run.returncode,
            "peak_memory_mb": round(self.run.extra.get("peak_memory_mb", 0)),
            "oom_kills": self.run.extra.get("oom_kills"),
            "flagged": self.run.results is not None and is_flagged(self.run.results),
            "total": None
            if self.run.results is None
            else sum(question_scores(self.run.results, self.questions)[0].values()),
            "problems": self.problems,
        }


class CatalogSession:
    def __init__(self, dist: Dist, workdir: Path):
        self.dist, self.workdir = dist, Path(workdir)
        self._baselines: dict[tuple, dict] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    def questions(self, aid: str) -> dict[str, float]:
        return self.dist.questions(aid)

    def secrets(self, aid: str) -> list[str]:
        student = Layout.beside(self.dist.root).set_by_id(aid).student_notebook.read_text("utf-8")
        return hidden_secrets(self.dist.zip(aid), student)

    def baseline(self, aid: str, base: str, path: str) -> dict[str, float]:
        """Scores of the base notebook without the hostile cell, graded through `path`."""
        key = (aid, base, path)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._baselines:
                folder = self.workdir / "baseline" / "-".join(key)
                run = grade(path, self.dist.zip(aid), build_base(self.dist, aid, base, folder))
                if run.results is None:
                    raise RuntimeError(f"baseline {key} has no results: {run.problem}\n{run.log}")
                scores, problems = question_scores(run.results, self.questions(aid))
                honest = load_catalog().honest[aid]
                questions = self.questions(aid)
                full = [q for q, s in scores.items() if s >= questions[q] > 0]
                blank_scored = [q for q, s in scores.items() if 0 < s < questions[q]]
                if base == "honest" and (len(full) != len(honest) or blank_scored):
                    problems.append(
                        f"want full marks on exactly {len(honest)} question(s) (the honest "
                        f"answers {honest}) and 0 on the blank ones"
                    )
                if problems or not full:
                    raise RuntimeError(f"baseline {key} is not usable: {problems}; {scores}")
                self._baselines[key] = scores
            return self._baselines[key]

    def run_case(self, case: Case, path: str) -> CaseOutcome:
        folder = self.workdir / "cases" / case.id
        submission = build_submission(case, self.dist, folder)
        baseline = self.baseline(case.set, case.base, path)
        run = grade(path, self.dist.zip(case.set), submission)
        questions, secrets = self.questions(case.set), self.secrets(case.set)
        problems = check_run(
            case, run.results, run.problem, run.wall_s, questions, baseline, secrets, "at the end"
        )
        if path == "gradescope" and run.results is not None:
            late = check_run(
                case,
                run.results_late,
                "gone when re-read",
                run.wall_s,
                questions,
                baseline,
                secrets,
                "re-read later",
            )
            problems += [p for p in late if p.split(": ", 1)[-1] not in str(problems)]
        return CaseOutcome(case, path, run, problems, questions)
