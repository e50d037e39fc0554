"""Grade a notebook with a built autograder zip, as Gradescope would, and measure it.

`grade_submission` runs `otter run` (through `_otter_run`) in a subprocess
under an outer wall-clock guard. The grading plugin comes from the zip itself
(extracted next to the results and put on PYTHONPATH), so a zip that lacks it
fails here exactly as it would on Gradescope. If Otter dies, crashes or runs
past the guard, the process tree is killed and a results.json is written
anyway, with a failure message for every question: grading never loses a
submission. While it runs, the whole process tree (otter and its kernel) is
polled with psutil for peak resident memory and CPU time, and for peak anonymous
memory: resident memory also counts pages of torch's shared libraries, which the
kernel can drop and re-read under a container's limit and which read higher in a
freshly installed environment; anonymous memory is what a limit cannot reclaim.
"""

from __future__ import annotations

import ast
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from diffcourse.release.config import PLUGIN_PACKAGE

DEFAULT_GUARD_SECONDS = 900


@dataclass
class GradeOutcome:
    results: dict  # Otter's results.json (or the fallback one)
    cases: dict  # question -> {"score", "possible", "cases": [...]}; empty if Otter died
    plugin: dict | None
    completed: bool  # Otter finished and wrote its own results
    reason: str  # why not, when not completed
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    peak_anon_mb: float | None = None  # None where /proc/<pid>/smaps_rollup does not exist
    log: str = ""
    scores: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(s for s, _ in self.scores.values())

    @property
    def possible(self) -> float:
        return sum(p for _, p in self.scores.values())


def zip_questions(zip_path: Path) -> dict[str, float]:
    """Question -> points, read from the test files inside an autograder zip."""
    questions = {}
    with zipfile.ZipFile(zip_path) as zf:
        for name in sorted(zf.namelist()):
            if not (name.startswith("tests/") and name.endswith(".py")):
                continue
            tree = ast.parse(zf.read(name).decode("utf-8"))
            for node in tree.body:
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "test":
                    test = ast.literal_eval(node.value)
                    points = test.get("points", 1)
                    if isinstance(points, list):
                        points = sum(points)
                    questions[test["name"]] = float(points if points is not None else 1)
    return questions


def fallback_results(questions: dict[str, float], reason: str) -> dict:
    """A Gradescope results.json for a run that produced none: 0 with a message per question."""
    message = (
        f"Grading did not finish ({reason}). This question was not graded; your submission "
        "is kept and staff will grade it by hand. Please tell the course staff."
    )
    return {
        "score": 0,
        "output": f"The autograder did not finish: {reason}.",
        "tests": [
            {"name": q, "score": 0, "max_score": p, "visibility": "visible", "output": message}
            for q, p in questions.items()
        ],
    }


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


# Linux 4.14+; elsewhere anonymous memory is not reported
SMAPS_ROLLUP = Path("/proc/self/smaps_rollup").is_file()


def _anonymous_bytes(pid: int) -> int:
    """Anonymous resident memory of one process; 0 for one that exited or is a zombie."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Anonymous:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _kill_tree(proc: psutil.Process) -> None:
    for p in reversed(_tree(proc)):
        try:
            p.kill()
        except psutil.Error:
            pass


def grade_submission(
    submission: Path,
    zip_path: Path,
    out_dir: Path,
    guard_seconds: float = DEFAULT_GUARD_SECONDS,
    poll_seconds: float = 0.05,
) -> GradeOutcome:
    """Grade `submission` with `zip_path` into `out_dir` (results.json, cases.json, log.txt)."""
    submission, zip_path, out_dir = Path(submission), Path(zip_path), Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    plugin_root = out_dir / "plugin-from-zip"
    with zipfile.ZipFile(zip_path) as zf:
        members = [n for n in zf.namelist() if n.startswith(f"{PLUGIN_PACKAGE}/")]
        zf.extractall(plugin_root, members)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(plugin_root)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "diffcourse.release._otter_run",
        str(zip_path.resolve()),
        str(submission.resolve()),
        str(out_dir.resolve()),
    ]
    log_path = out_dir / "log.txt"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    peak_rss = 0
    peak_anon = 0
    cpu_seen: dict[int, float] = {}
    with open(log_path, "w", encoding="utf-8") as log:
        popen = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=out_dir)
        proc = psutil.Process(popen.pid)
        timed_out = False
        while popen.poll() is None:
            rss, anon = 0, 0
            for p in _tree(proc):
                try:
                    rss += p.memory_info().rss
                    t = p.cpu_times()
                    cpu_seen[p.pid] = t.user + t.system
                except psutil.Error:
                    continue
                if SMAPS_ROLLUP:
                    anon += _anonymous_bytes(p.pid)
            peak_rss = max(peak_rss, rss)
            peak_anon = max(peak_anon, anon)
            if time.monotonic() - start > guard_seconds:
                timed_out = True
                _kill_tree(proc)
                popen.wait()
                break
            time.sleep(poll_seconds)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu = max(cpu_waited, sum(cpu_seen.values()))
    log_text = log_path.read_text(encoding="utf-8", errors="replace")

    results_path, cases_path = out_dir / "results.json", out_dir / "cases.json"
    reason = ""
    if timed_out:
        reason = f"grading ran past the outer time limit of {guard_seconds:g} s and was stopped"
    elif popen.returncode != 0:
        last = log_text.strip().splitlines()[-1:] or ["(no output)"]
        reason = f"otter run exited with status {popen.returncode}: {last[0][:300]}"
    elif not results_path.exists() or not cases_path.exists():
        reason = "otter run finished without writing results.json"
    completed = not reason
    if completed:
        results = json.loads(results_path.read_text(encoding="utf-8"))
        payload = json.loads(cases_path.read_text(encoding="utf-8"))
        cases, plugin = payload["questions"], payload.get("plugin")
    else:
        results = fallback_results(zip_questions(zip_path), reason)
        results_path.write_text(json.dumps(results, indent=2), encoding="utf-8")
        cases, plugin = {}, None
    scores = {
        t["name"]: (float(t.get("score") or 0), float(t["max_score"]))
        for t in results.get("tests", [])
        if "max_score" in t
    }
    return GradeOutcome(
        results=results,
        cases=cases,
        plugin=plugin,
        completed=completed,
        reason=reason,
        wall_s=wall,
        cpu_s=cpu,
        peak_rss_mb=peak_rss / 2**20,
        peak_anon_mb=peak_anon / 2**20 if SMAPS_ROLLUP else None,
        log=log_text,
        scores=scores,
    )
