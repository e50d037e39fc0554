"""The release gates. Each raises ReleaseError naming the assignment and the question.

a. the reference solutions score full marks through the built autograder zip;
b. the untouched student notebook runs and scores 0, test case by test case;
c. nothing shipped to students leaks a solution line or a hidden test;
d. the zip's environment installs CPU torch at the pinned version;
e. the zip carries the grading runner, its configuration with course.yml's
   limits, the reference and the entry script that runs it, and hides stdout.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import yaml

from diffcourse_staff.course import Assignment
from diffcourse_staff.release import leaks as leakscan
from diffcourse_staff.release.config import (
    GRADING_CONFIG,
    PLUGIN_PACKAGE,
    RUN_AUTOGRADER,
    RUNNER_TOTAL_TIMEOUT_S,
    TORCH_CPU_INDEX,
    TORCH_VERSION,
    grading_config,
)
from diffcourse_staff.release.errors import ReleaseError
from diffcourse_staff.release.grade import GradeOutcome
from diffcourse_staff.release.notebook import SourceNotebook

# Gradescope's documented default container: 768 MB, half a vCPU, 10 min timeout.
GRADESCOPE_DEFAULT_MEMORY_MB = 768
GRADESCOPE_MEMORY_STEPS_MB = (768, 1536, 3072, 6144)
GRADER_FOOTPRINT_MB = 350  # the grading process with torch loaded, measured
MEMORY_TARGET_MB = 1024
CPU_TARGET_S = 120


def _case_where(src: SourceNotebook, question: str, index: int) -> str:
    try:
        q = src.question(question)
        t = q.tests[index]
        kind = "hidden" if t.hidden else "public"
        return f"test case {index + 1} ({kind}, source cell {t.cell})"
    except (KeyError, IndexError):
        return f"test case {index + 1}"


def _first_line(message: str) -> str:
    """The gist of a failed test case: the first failing doctest line and what went wrong."""
    lines = message.splitlines()
    for i, ln in enumerate(lines):
        if ln.strip() != "Failed example:":
            continue
        code = lines[i + 1].strip() if i + 1 < len(lines) else ""
        for j in range(i + 2, len(lines)):
            s = lines[j].strip()
            if s == "Exception raised:":
                exc = ""
                for k in range(j + 1, len(lines)):
                    t = lines[k].strip()
                    if t.startswith(("Trying:", "*****")):
                        break
                    exc = t or exc
                return f"{code[:120]} -> {exc[:200]}"
            if s.startswith("Expected nothing") or s == "Expected:":
                got = next(
                    (
                        lines[k].strip()
                        for k in range(j + 1, len(lines))
                        if lines[k].strip() and lines[k].strip() != "Got:"
                    ),
                    "",
                )
                return (
                    f"{code[:120]} -> printed output ({got[:80]}); a test case must print "
                    "nothing (Otter compares its output with the saved, empty one)"
                )
        return code[:200]
    lines = [ln.strip() for ln in lines if ln.strip()]
    for ln in reversed(lines):
        if "Error" in ln or "Exception" in ln or "Timeout" in ln:
            return ln[:240]
    return (lines[-1] if lines else "")[:240]


def gate_reference(aid: str, src: SourceNotebook, outcome: GradeOutcome) -> None:
    """Gate a: full marks, per question, total == possible > 0."""
    if not outcome.completed:
        raise ReleaseError(aid, f"grading the reference solutions failed: {outcome.reason}")
    if outcome.plugin and outcome.plugin.get("reference_error"):
        raise ReleaseError(
            aid,
            "the zip's reference module does not load in the grader: "
            + outcome.plugin["reference_error"].strip().splitlines()[-1],
        )
    if outcome.plugin and outcome.plugin.get("flagged"):
        raise ReleaseError(
            aid,
            "the reference solutions are flagged by the tamper scan: "
            + "; ".join(outcome.plugin.get("findings", [])),
        )
    expected = {q.name: float(q.points) for q in src.questions if not q.manual}
    for name, pts in expected.items():
        if name not in outcome.scores:
            raise ReleaseError(aid, "the autograder zip has no tests for this question", name)
        score, possible = outcome.scores[name]
        if abs(possible - pts) > 1e-9:
            raise ReleaseError(
                aid, f"the autograder gives {possible:g} points, the notebook says {pts:g}", name
            )
        if abs(score - possible) > 1e-9:
            failing = [
                f"{_case_where(src, name, i)}: {_first_line(c['message'])}"
                for i, c in enumerate(outcome.cases.get(name, {}).get("cases", []))
                if not c["passed"]
            ]
            raise ReleaseError(
                aid,
                f"the reference solution scores {score:g}/{possible:g} through the autograder "
                "zip; failing: " + ("; ".join(failing) or "(no test case details)"),
                name,
            )
    extra = sorted(set(outcome.scores) - set(expected))
    if extra:
        raise ReleaseError(aid, f"the autograder grades unknown questions {extra}")
    if not (outcome.possible > 0 and abs(outcome.total - outcome.possible) < 1e-9):
        raise ReleaseError(
            aid, f"the reference scores {outcome.total:g} of {outcome.possible:g} possible points"
        )


def gate_blank_student(aid: str, src: SourceNotebook, outcome: GradeOutcome) -> None:
    """Gate b: the untouched student notebook is graded to the end and scores 0 everywhere."""
    if not outcome.completed:
        raise ReleaseError(aid, f"grading the untouched student notebook failed: {outcome.reason}")
    if not outcome.scores:
        raise ReleaseError(aid, "grading the untouched student notebook produced no scores")
    problems, questions = [], set()
    for name, info in sorted(outcome.cases.items()):
        for i, case in enumerate(info.get("cases", [])):
            if case["passed"]:
                kind = "hidden" if case.get("hidden") else "public"
                problems.append(
                    f"{name} {_case_where(src, name, i)} passes on the untouched student "
                    f"notebook: a {kind} test that a blank answer passes tests nothing "
                    "(authoring error)"
                )
                questions.add(name)
    for name, (score, possible) in sorted(outcome.scores.items()):
        if score > 0 and name not in questions:
            problems.append(f"{name} scores {score:g}/{possible:g} on the untouched notebook")
            questions.add(name)
    if problems:
        raise ReleaseError(aid, problems, questions.pop() if len(questions) == 1 else None)


def gate_leaks(
    aid: str,
    src: SourceNotebook,
    roots: list[Path],
    vendor_dir: Path | None,
    forbidden: dict[bytes, str],
) -> None:
    """Gate c: the leak scan of the student folder and zip, and the vendored modules."""
    found = leakscan.scan(roots, [src], forbidden)
    if vendor_dir is not None and vendor_dir.exists():
        found += leakscan.vendored_conflicts(vendor_dir, src)
    if found:
        questions = {leak.question for leak in found if leak.question}
        raise ReleaseError(
            aid,
            [f"leak: {leak}" for leak in found[:25]]
            + ([f"... and {len(found) - 25} more"] if len(found) > 25 else []),
            questions.pop() if len(questions) == 1 else None,
        )


def zip_pip_lines(zip_path: Path) -> list[str]:
    with zipfile.ZipFile(zip_path) as zf:
        env = yaml.safe_load(zf.read("environment.yml"))
    pip: list[str] = []
    for dep in env.get("dependencies", []):
        if isinstance(dep, dict) and "pip" in dep:
            pip.extend(str(x).strip() for x in dep["pip"])
    return pip


def gate_environment(aid: str, zip_path: Path) -> None:
    """Gate d: the zip's environment installs CPU torch at the tested version."""
    try:
        pip = zip_pip_lines(zip_path)
    except (KeyError, zipfile.BadZipFile, yaml.YAMLError) as e:
        raise ReleaseError(aid, f"cannot read environment.yml in {zip_path}: {e}") from None
    torch_lines = [ln for ln in pip if ln.split("==")[0].split(">")[0].split("<")[0] == "torch"]
    wanted = f"torch=={TORCH_VERSION}+cpu"
    if torch_lines != [wanted]:
        raise ReleaseError(
            aid,
            f"{zip_path.name}: environment.yml must pin exactly '{wanted}' (found "
            f"{torch_lines or 'no torch line'}); a plain torch line installs a multi-GB CUDA build",
        )
    index_ok = any(
        ln.split()[0] in ("--extra-index-url", "--index-url") and ln.split()[-1] == TORCH_CPU_INDEX
        for ln in pip
        if ln.startswith("--")
    )
    if not index_ok:
        raise ReleaseError(
            aid, f"{zip_path.name}: environment.yml lacks '--extra-index-url {TORCH_CPU_INDEX}'"
        )
    if not any(ln.startswith("otter-grader") and "==7.0.0" in ln for ln in pip):
        raise ReleaseError(aid, f"{zip_path.name}: environment.yml does not pin otter-grader 7.0.0")


RUNNER_MODULES = (
    "__init__.py",
    "run.py",
    "worker.py",
    "supervisor.py",
    "protocol.py",
    "rpc.py",
    "testing.py",
    "submission.py",
    "tamper.py",
)


def gate_plugin(aid: str, zip_path: Path, assignment: Assignment) -> None:
    """Gate e: the grading runner, its configuration (course.yml's limits), the reference
    and the entry script are in the zip; stdout and hidden results stay hidden."""
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        config = json.loads(zf.read("otter_config.json"))
        runner = json.loads(zf.read(GRADING_CONFIG)) if GRADING_CONFIG in names else None
        entry = zf.read("run_autograder").decode("utf-8") if "run_autograder" in names else ""
    for module in RUNNER_MODULES:
        if f"{PLUGIN_PACKAGE}/{module}" not in names:
            raise ReleaseError(aid, f"{zip_path.name} lacks {PLUGIN_PACKAGE}/{module}")
    for member in ("reference/solutions.py", "reference/questions.json"):
        if member not in names:
            raise ReleaseError(aid, f"{zip_path.name} lacks {member}")
    if any(n.startswith("files/reference") for n in names):
        raise ReleaseError(aid, "the reference is in files/, which is copied next to submissions")
    if runner is None:
        raise ReleaseError(aid, f"{zip_path.name} lacks {GRADING_CONFIG}")
    wanted = grading_config(assignment, runner.get("questions", []))["limits"]
    if runner.get("limits") != wanted:
        raise ReleaseError(
            aid,
            f"the runner's limits in {GRADING_CONFIG} are {runner.get('limits')}, course.yml "
            f"says {wanted}",
        )
    if entry != RUN_AUTOGRADER:
        raise ReleaseError(aid, "run_autograder does not run the grading runner")
    if config.get("show_stdout", False):
        raise ReleaseError(aid, "show_stdout is on: a submission could print the hidden tests")
    if not config.get("show_hidden", False):
        raise ReleaseError(
            aid,
            "show_hidden is off: students would never see their hidden-test results, "
            "which the assignment page promises once the grades are published",
        )


def recommended_settings(outcome: GradeOutcome, assignment: Assignment) -> dict:
    """Gradescope settings from the measured grading of the reference."""
    peak = outcome.peak_pss_mb if outcome.peak_pss_mb else outcome.peak_rss_mb
    # The container must hold the grader (about the reference's footprint less the
    # worker's) plus a worker at its limit, or a memory bomb kills the container before
    # the runner stops the worker, and no results.json is written.
    need = max(peak, assignment.memory_mb + GRADER_FOOTPRINT_MB) * 1.1
    memory = next((m for m in GRADESCOPE_MEMORY_STEPS_MB if m >= need), need)
    # the runner stops itself after RUNNER_TOTAL_TIMEOUT_S; the rest is set-up margin
    timeout_min = max(10, math.ceil(RUNNER_TOTAL_TIMEOUT_S / 60) + 3)
    return {
        "memory_mb": memory,
        "cpu": "0.5 vCPU (default) is enough" if outcome.cpu_s < CPU_TARGET_S else "1 vCPU",
        "timeout_minutes": min(timeout_min, 40),
        "within_targets": peak <= MEMORY_TARGET_MB and outcome.cpu_s <= CPU_TARGET_S,
        "measured_peak_mb": round(peak, 1),
    }
