"""What a graded hostile submission must satisfy, as a list of problems (empty: it holds).

For every case and every grading path (Gradescope's layout, the local command):
results.json exists and is a JSON object with a numeric score for every question
of the zip; no question scores more than it does for the honest baseline (the same
notebook without the hostile cell, graded the same way); the honest question keeps
its points unless the case destroys the file or is flagged; a tampering case is
flagged for review; no visible part of results.json shows a line of a hidden test;
and the run ends within the worst-case time. On Gradescope's path the same checks
apply to results.json as re-read a few seconds after the run (a process left
behind can rewrite it).
"""

from __future__ import annotations

import ast
import re
import zipfile
from pathlib import Path

WORST_CASE_SECONDS = 8 * 60
SCORE_SLACK = 1e-6
FLAG_PATTERN = re.compile(r"flagged\s+for\s+(manual\s+)?review", re.I)
SECRET_MIN_LENGTH = 40  # hidden-test lines shorter than this are too generic to call a leak


def question_scores(results: dict, questions: dict[str, float]) -> tuple[dict, list[str]]:
    """question -> score from a Gradescope results.json, and what is wrong with it."""
    problems, scores = [], {}
    tests = results.get("tests")
    if not isinstance(tests, list):
        return {}, ["results.json has no list of tests"]
    by_name: dict[str, list] = {}
    for t in tests:
        if isinstance(t, dict):
            by_name.setdefault(str(t.get("name", "")), []).append(t)
    for q, possible in questions.items():
        entries = [t for name, ts in by_name.items() for t in ts if name.split(" ")[0] == q]
        scored = [t for t in entries if isinstance(t.get("score"), (int, float))]
        if not scored:
            problems.append(f"{q}: no score in results.json")
            continue
        score = sum(float(t["score"]) for t in scored)
        maxima = {float(t.get("max_score", possible)) for t in scored}
        if sum(maxima) > possible + SCORE_SLACK:
            problems.append(f"{q}: max_score {sorted(maxima)} exceeds the zip's {possible:g}")
        if score != score or score < -SCORE_SLACK or score > possible + SCORE_SLACK:
            problems.append(f"{q}: score {score} outside [0, {possible:g}]")
        scores[q] = score
    if "score" in results and isinstance(results["score"], (int, float)) and scores:
        if results["score"] > sum(scores.values()) + SCORE_SLACK:
            problems.append(
                f"top-level score {results['score']} exceeds the questions' sum "
                f"{sum(scores.values()):g}"
            )
    return scores, problems


def visible_text(results: dict) -> str:
    """Every part of results.json a student sees (hidden-visibility entries excluded)."""
    parts = [str(results.get("output", ""))]
    if results.get("stdout_visibility") not in (None, "hidden"):
        parts.append(str(results.get("stdout", "")))
    for t in results.get("tests", []) if isinstance(results.get("tests"), list) else []:
        if isinstance(t, dict) and t.get("visibility", "visible") != "hidden":
            parts.append(str(t.get("output", "")))
            parts.append(str(t.get("name", "")))
    return "\n".join(parts)


def is_flagged(results: dict) -> bool:
    return bool(FLAG_PATTERN.search(visible_text(results)))


def hidden_secrets(zip_path: Path, student_notebook_text: str) -> list[str]:
    """Distinctive code lines of the zip's hidden tests (not in any public test or the
    student notebook): seeing one in a visible message means a hidden test leaked."""
    public, hidden = set(), set()
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            if not (name.startswith("tests/") and name.endswith(".py")):
                continue
            for node in ast.parse(zf.read(name).decode("utf-8")).body:
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "test":
                    test = ast.literal_eval(node.value)
                    for suite in test.get("suites", []):
                        for case in suite.get("cases", []):
                            lines = {
                                ln.removeprefix(">>> ").removeprefix("... ").strip()
                                for ln in str(case.get("code", "")).splitlines()
                            }
                            (hidden if case.get("hidden") else public).update(lines)
    return sorted(
        ln
        for ln in hidden - public
        if len(ln) >= SECRET_MIN_LENGTH and ln not in student_notebook_text
    )


def check_run(
    case,
    results: dict | None,
    problem: str,
    wall_s: float,
    questions: dict[str, float],
    baseline: dict[str, float],
    secrets: list[str],
    label: str = "",
) -> list[str]:
    """Problems with one reading of one case's results.json (see the module docstring)."""
    at = f"{label}: " if label else ""
    if wall_s > WORST_CASE_SECONDS:
        return [f"{at}grading took {wall_s:.0f} s (limit {WORST_CASE_SECONDS} s)"]
    if results is None:
        return [f"{at}no usable results.json ({problem})"]
    scores, problems = question_scores(results, questions)
    problems = [f"{at}{p}" for p in problems]
    for q, score in scores.items():
        if score > baseline.get(q, 0.0) + SCORE_SLACK:
            problems.append(
                f"{at}{q}: {score:g} points gained (honest baseline {baseline.get(q, 0.0):g})"
            )
    flagged = is_flagged(results)
    if case.flag and not flagged:
        problems.append(f"{at}a tampering case is not flagged for review")
    if case.honest and not flagged:
        for q, possible in questions.items():
            if baseline.get(q, 0.0) >= possible - SCORE_SLACK and q in scores:
                if scores[q] < possible - SCORE_SLACK:
                    problems.append(
                        f"{at}{q}: the honest answer lost its points ({scores[q]:g}/{possible:g})"
                    )
    shown = visible_text(results)
    leaked = [s for s in secrets if s in shown]
    if leaked:
        problems.append(f"{at}{len(leaked)} hidden-test line(s) visible, e.g. {leaked[0][:80]!r}")
    return problems
