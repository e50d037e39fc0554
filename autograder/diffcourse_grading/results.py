"""results.json: the one home of its shape (Gradescope's format plus our staff part).

Standard library only: the staff tools load this file on its own
(`diffcourse_staff` cannot import the runner's package, which lives in the zips) to
write the results of a grading that produced none, in the same shape and words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

NOT_GRADED = (
    "{name}: not graded: {reason}. Your submission is kept and staff will grade it by "
    "hand; please tell the course staff."
)


@dataclass
class CaseResult:
    passed: bool
    hidden: bool
    points: float
    message: str = ""


@dataclass
class QuestionResult:
    name: str
    possible: float
    cases: list[CaseResult] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    stopped: str = ""  # why grading of this question was cut short
    seconds: float = 0.0

    @property
    def score(self) -> float:
        if self.flags:
            return 0.0
        return sum(c.points for c in self.cases if c.passed)

    def message(self) -> str:
        lines = []
        if self.flags:
            lines.append("flagged for review: " + "; ".join(dict.fromkeys(self.flags)))
            lines.append("This question scores 0 until a member of staff has reviewed it.")
        if self.stopped:
            lines.append(self.stopped)
        for i, c in enumerate(self.cases, 1):
            kind = "hidden" if c.hidden else "public"
            if c.passed:
                lines.append(f"test {i} ({kind}) passed")
            else:
                lines.append(f"test {i} ({kind}) failed: {c.message}")
        return "\n".join(lines)


def not_graded(name: str, possible: float, why: str) -> QuestionResult:
    r = QuestionResult(name, possible)
    r.stopped = why
    return r


def not_graded_results(questions: dict[str, float], reason: str, staff: dict | None = None):
    """results.json for a grading that did not finish (the grader failed, ran past its
    limit, or had no files): every question 0 with a message saying why."""
    results = [
        not_graded(q, p, NOT_GRADED.format(name=q, reason=reason)) for q, p in questions.items()
    ]
    return results_json(results, f"The autograder did not finish: {reason}.", staff or {}, [])


def results_json(results: list[QuestionResult], problem: str, staff: dict, notes: list) -> dict:
    tests = []
    summary = []
    if problem:
        summary.append(problem)
    if notes:
        summary.append("Running your notebook:\n" + "\n".join(f"- {n}" for n in notes[:30]))
    public_lines = []
    for r in results:
        for i, c in enumerate(r.cases, 1):
            if not c.hidden:
                state = "passed" if c.passed else f"failed: {c.message}"
                public_lines.append(f"{r.name} public test {i}: {state}")
    if public_lines:
        summary.append("Public tests:\n" + "\n".join(public_lines))
    tests.append(
        {
            "name": "Public tests and notebook",
            "visibility": "visible",
            "output": "\n\n".join(summary),
        }
    )
    for r in results:
        tests.append(
            {
                "name": r.name,
                "score": round(r.score, 5),
                "max_score": round(r.possible, 5),
                "visibility": "after_published",
                "output": r.message(),
            }
        )
    staff_text = json.dumps(staff, indent=1, default=str)[:20000]
    tests.append(
        {"name": "Grading report (staff only)", "visibility": "hidden", "output": staff_text}
    )
    cases = {
        r.name: {
            "score": r.score,
            "possible": r.possible,
            "flags": r.flags,
            "stopped": r.stopped,
            "seconds": round(r.seconds, 2),
            "cases": [
                {"hidden": c.hidden, "passed": c.passed, "points": c.points, "message": c.message}
                for c in r.cases
            ],
        }
        for r in results
    }
    flagged = [r.name for r in results if r.flags]
    overall = problem or "Graded by the course's autograder."
    if flagged:
        overall = (
            f"This submission was flagged for review ({', '.join(flagged)}): the autograder saw "
            "what looks like an attempt to change grading. Flagged questions score 0 until a "
            "member of staff has reviewed them. " + (problem or "")
        ).strip()
    return {
        # The sum of the scores as written above, so the total never differs from them by rounding.
        "score": round(sum(round(r.score, 5) for r in results), 5),
        "output": overall,
        "tests": tests,
        "extra_data": {"diffcourse_grading": {"questions": cases, **staff}},
    }
