"""Turn what one grading run left behind into the submission's results.json and summary.

The grader's own results.json is used when it wrote a valid one. Otherwise (time
limit, memory limit, a dead grader, an engine failure, no files) a results.json
is made here with 0 and a message on every question of the autograder, so that
no submission is lost or silently zero: the message says why and that staff
will grade it by hand (release.grade.not_graded_results: the runner's own shape and words).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from diffcourse_staff.grading_batch.engines import ENGINE_FAILURE_CODES, Limits, RunResult
from diffcourse_staff.release.grade import points_of_test_file

OUTCOMES = ("graded", "review", "timeout", "memory", "crashed", "engine-error", "no-files")


def review_reason(results: dict) -> str | None:
    """Why a complete results.json still needs a person (a question not graded, a flag)."""
    for test in results.get("tests", []):
        text = str(test.get("output", ""))
        if test.get("max_score") and ("not graded" in text.lower() or "flagged for" in text):
            return f"{test.get('name')}: {text.strip().splitlines()[0][:200]}"
    return None


def source_questions(source: Path) -> dict[str, float]:
    """Question -> points, from the Otter test files of an unpacked autograder zip."""
    questions = {}
    for path in sorted((Path(source) / "tests").glob("*.py")):
        questions.update(points_of_test_file(path.read_text(encoding="utf-8")))
    return questions


def read_results(path: Path) -> dict | None:
    """The grader's results.json if it is a Gradescope results object, else None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        return None
    return data


@dataclass
class Summary:
    key: str
    outcome: str
    reason: str
    score: float
    max_score: float
    wall_s: float
    peak_memory_mb: float | None
    exit_code: int | None
    runner: str
    engine: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def classify(run: RunResult, report: dict, limits: Limits, log_tail: str) -> tuple[str, str]:
    """(outcome, reason) of a run that left no valid results.json."""
    if run.timed_out:
        return "timeout", f"grading ran past the limit of {limits.timeout_s:g} s and was stopped"
    ooms = report.get("oom_kills") or run.oom_kills or 0
    if ooms or run.exit_code == 137:
        return "memory", f"the submission used more than the memory limit of {limits.memory_mb} MB"
    if run.exit_code in ENGINE_FAILURE_CODES and not report:
        return "engine-error", f"the container engine failed (exit {run.exit_code})"
    code = report.get("exit_code", run.exit_code)
    return "crashed", f"the grader stopped with status {code}: {last_error(log_tail)}"


def last_error(log: str) -> str:
    """The last exception line of a log (`...DeadKernelError: Kernel died`), else its end."""
    lines = [line.strip() for line in log.strip().splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]*(Error|Exception|Exit)\b.*", line)]
    return (errors or lines or ["(no output)"])[-1][:300]


def scores_of(results: dict) -> dict[str, tuple[float, float]]:
    return {
        t["name"]: (float(t.get("score") or 0), float(t.get("max_score") or 0))
        for t in results.get("tests", [])
        if "name" in t
    }
