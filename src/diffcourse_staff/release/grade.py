"""Grade a notebook with a built autograder zip, as Gradescope would, and measure it.

`grade_submission` unpacks the zip into OUT/source (Gradescope's
/autograder/source) and runs the zip's own grading runner
(`python -m diffcourse_grading.run`, imported from that folder) in a
subprocess under an outer wall-clock guard, so a zip that lacks the runner
fails here exactly as it would on Gradescope. The runner writes results.json
whatever the submission does; if the runner itself dies or runs past the
guard, the process tree is killed and a results.json is written anyway, with
a failure message for every question: grading never loses a submission.
While it runs, the whole process tree (the grader and its worker) is
polled with psutil for peak resident memory and CPU time, and for peak anonymous
memory: resident memory also counts pages of torch's shared libraries, which the
kernel can drop and re-read under a container's limit and which read higher in a
freshly installed environment; anonymous memory is what a limit cannot reclaim.
"""

from __future__ import annotations

import ast
import importlib.util
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

from diffcourse_staff.course import REPO_ROOT

DEFAULT_GUARD_SECONDS = 900
RUNNER_RESULTS = REPO_ROOT / "autograder" / "diffcourse_grading" / "results.py"


@dataclass
class GradeOutcome:
    results: dict  # the runner's results.json (or the fallback one)
    cases: dict  # question -> {"score", "possible", "cases": [...]}; empty if the runner died
    plugin: dict | None  # {"flagged", "findings", "review_notes", ...} from the runner
    completed: bool  # the runner finished and wrote its own results
    reason: str  # why not, when not completed
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    peak_anon_mb: float | None = None  # None where /proc/<pid>/smaps_rollup does not exist
    peak_pss_mb: float | None = None  # the tree's real peak footprint (see _rollup_bytes)
    log: str = ""
    scores: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(s for s, _ in self.scores.values())

    @property
    def possible(self) -> float:
        return sum(p for _, p in self.scores.values())


def points_of_test_file(text: str) -> dict[str, float]:
    """Question -> points of one Otter test file (tests/<q>.py), read without running it."""
    questions = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "test":
            test = ast.literal_eval(node.value)
            points = test.get("points", 1)
            if isinstance(points, list):
                points = sum(points)
            questions[test["name"]] = float(points if points is not None else 1)
    return questions


def zip_questions(zip_path: Path) -> dict[str, float]:
    """Question -> points, read from the test files inside an autograder zip."""
    questions = {}
    with zipfile.ZipFile(zip_path) as zf:
        for name in sorted(zf.namelist()):
            if name.startswith("tests/") and name.endswith(".py"):
                questions.update(points_of_test_file(zf.read(name).decode("utf-8")))
    return questions


def _runner_results():
    """The grading runner's results module, the one home of results.json's shape: loaded
    from its file, since the runner's package ships in the zips and is not installed."""
    name = "_diffcourse_grading_results"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, RUNNER_RESULTS)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before running it: its dataclasses look it up
        spec.loader.exec_module(module)
    return sys.modules[name]


def not_graded_results(questions: dict[str, float], reason: str) -> dict:
    """A Gradescope results.json for a run that produced none: 0 with a message per question
    (the runner's own wording and shape)."""
    return _runner_results().not_graded_results(questions, reason)


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


# Linux 4.14+; elsewhere anonymous memory is not reported
SMAPS_ROLLUP = Path("/proc/self/smaps_rollup").is_file()


def _rollup_bytes(pid: int) -> tuple[int, int]:
    """(anonymous, proportional) resident memory of one process; 0s for one that exited.

    The proportional set size splits each shared page among the processes that map it:
    summed over a tree of forked processes (the worker and its per-call children share
    most pages) it is the tree's real footprint, where resident sizes count shared pages
    once per process."""
    anon = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Anonymous:"):
                    anon = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return anon, pss


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
    poll_seconds: float = 0.1,
) -> GradeOutcome:
    """Grade `submission` with `zip_path` into `out_dir` (results.json, log.txt)."""
    submission, zip_path, out_dir = Path(submission), Path(zip_path), Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    source = out_dir / "source"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(source)
    results_dir = out_dir / "results"
    results_dir.mkdir()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(source)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "diffcourse_grading.run",
        "--source",
        str(source.resolve()),
        "--submission",
        str(submission.resolve()),
        "--results",
        str((results_dir / "results.json").resolve()),
    ]
    log_path = out_dir / "log.txt"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    peak_rss = 0
    peak_anon = 0
    peak_pss = 0
    cpu_seen: dict[int, float] = {}
    with open(log_path, "w", encoding="utf-8") as log:
        popen = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=source)
        proc = psutil.Process(popen.pid)
        timed_out = False
        while popen.poll() is None:
            rss, anon, pss = 0, 0, 0
            for p in _tree(proc):
                try:
                    rss += p.memory_info().rss
                    t = p.cpu_times()
                    cpu_seen[p.pid] = t.user + t.system
                except psutil.Error:
                    continue
                if SMAPS_ROLLUP:
                    a, ps = _rollup_bytes(p.pid)
                    anon, pss = anon + a, pss + ps
            peak_rss = max(peak_rss, rss)
            peak_anon = max(peak_anon, anon)
            peak_pss = max(peak_pss, pss)
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

    results_path = results_dir / "results.json"
    reason = ""
    if timed_out:
        reason = f"grading ran past the outer time limit of {guard_seconds:g} s and was stopped"
    elif not results_path.exists():
        last = log_text.strip().splitlines()[-1:] or ["(no output)"]
        status = popen.returncode
        reason = f"the grading runner wrote no results.json (status {status}): {last[0][:300]}"
    else:
        results = json.loads(results_path.read_text(encoding="utf-8"))
        staff = results.get("extra_data", {}).get("diffcourse_grading", {})
        if popen.returncode != 0 or "grader_error" in staff:
            error = str(staff.get("grader_error", "")).strip().splitlines()[-1:] or [""]
            reason = f"the grading runner failed (status {popen.returncode}): {error[0][:300]}"
    completed = not reason
    if completed:
        cases = staff.get("questions", {})
        flags = {q: f for q, f in (staff.get("flags") or {}).items() if f}
        plugin = {
            "flagged": bool(flags),
            "findings": [f"{q}: {'; '.join(f)}" for q, f in flags.items()],
            "review_notes": staff.get("review_notes", []),
            "sandbox": staff.get("sandbox", {}),
            "reference_error": staff.get("reference_error"),
        }
    else:
        results = not_graded_results(zip_questions(zip_path), reason)
        results_path.write_text(json.dumps(results, indent=2), encoding="utf-8")
        cases, plugin = {}, None
    shutil.copy2(results_path, out_dir / "results.json")
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
        peak_pss_mb=peak_pss / 2**20 if SMAPS_ROLLUP else None,
        log=log_text,
        scores=scores,
    )
