"""The release gates: what must hold before a build may be uploaded or published.

`GATES` declares them, in the order they run (cheapest first, so a broken zip
fails in a second rather than after a grading). Each gate reads one
`BuildContext`, is stamped under its name once it passes, and on failure
raises a ReleaseError that names the gate, the assignment and the question:

    environment (d)  the zip's environment installs CPU torch at the pinned version
    runner      (e)  the zip carries the grading runner, its configuration with
                     course.yml's limits, the reference and the entry script that
                     runs it, and hides stdout
    leaks       (c)  nothing shipped to students leaks a solution line or a hidden test
    reference   (a)  the reference solutions score full marks through the built zip;
                     writes the grading report (measured cost, Gradescope settings)
    blank       (b)  the untouched student notebook runs and scores 0, case by case

The letters are the names older notes and stamps used; `gate_named` accepts both.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
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
from diffcourse_staff.release.context import BuildContext
from diffcourse_staff.release.errors import ReleaseError
from diffcourse_staff.release.grade import GradeOutcome, grade_submission
from diffcourse_staff.release.layout import SetPaths
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


def check_reference(aid: str, src: SourceNotebook, outcome: GradeOutcome) -> None:
    """Full marks, per question, total == possible > 0."""
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


def check_blank(aid: str, src: SourceNotebook, outcome: GradeOutcome) -> None:
    """The untouched student notebook is graded to the end and scores 0 everywhere."""
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


def check_leaks(
    aid: str,
    src: SourceNotebook,
    roots: list[Path],
    vendor_dir: Path | None,
    forbidden: dict[bytes, str],
) -> None:
    """The leak scan of the student folder and zip, and the vendored modules."""
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


def check_environment(aid: str, zip_path: Path) -> None:
    """The zip's environment installs CPU torch at the tested version."""
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


def check_runner(aid: str, zip_path: Path, assignment: Assignment) -> None:
    """The grading runner, its configuration (course.yml's limits), the reference
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


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def grading_report(ctx: BuildContext, outcome: GradeOutcome) -> dict:
    """dist/<id>/grading-report.json: what grading the reference cost, and the Gradescope
    settings that follow (the site's problem-set page and the staff read it)."""
    plugin = outcome.plugin or {}
    return {
        "assignment": ctx.aid,
        "autograder_zip": ctx.paths.autograder_zip.name,
        "graded_at": dt.datetime.now().isoformat(timespec="seconds"),
        "reference": {
            "total": outcome.total,
            "possible": outcome.possible,
            "questions": {q: {"score": s, "possible": p} for q, (s, p) in outcome.scores.items()},
            "wall_s": round(outcome.wall_s, 2),
            "cpu_s": round(outcome.cpu_s, 2),
            "peak_rss_mb": round(outcome.peak_rss_mb, 1),
            "peak_anon_mb": _rounded(outcome.peak_anon_mb),
            "peak_pss_mb": _rounded(outcome.peak_pss_mb),
            "flags": plugin.get("findings", []),
            "sandbox": plugin.get("sandbox", {}),
        },
        "cell_timeout_s": ctx.assignment.cell_timeout,
        "limits": grading_config(ctx.assignment, [])["limits"],
        "targets": {"peak_pss_mb": MEMORY_TARGET_MB, "cpu_s": CPU_TARGET_S},
        "gradescope": recommended_settings(outcome, ctx.assignment),
        "measured_on": f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}",
    }


# -- the gates, declared ---------------------------------------------------------------
# Each step runs one check on the context and returns what its log line says in brackets.


def _environment(ctx: BuildContext) -> str:
    check_environment(ctx.aid, ctx.paths.autograder_zip)
    return "CPU torch pinned in the zip's environment"


def _runner(ctx: BuildContext) -> str:
    check_runner(ctx.aid, ctx.paths.autograder_zip, ctx.assignment)
    return "grading runner, reference and limits in the zip"


def _leaks(ctx: BuildContext) -> str:
    p = ctx.paths
    forbidden = {p.autograder_zip.read_bytes(): "the autograder zip"}
    if p.otter_autograder_notebook.exists():
        forbidden[p.otter_autograder_notebook.read_bytes()] = "Otter's autograder notebook"
    # This assignment's handout only. The site is scanned as a whole by `check-site` once
    # it is rebuilt (make site): the one on disk now predates this build, and it holds
    # other assignments' handouts, which their own rules judge.
    vendored = p.vendored_dir if ctx.modules else None
    check_leaks(ctx.aid, ctx.source, [p.student_dir, p.student_zip], vendored, forbidden)
    return "no leak in the student folder and zip"


def _reference(ctx: BuildContext) -> str:
    p = ctx.paths
    outcome = grade_submission(
        p.otter_autograder_notebook,
        p.autograder_zip,
        p.grading_dir("reference"),
        ctx.options.guard_seconds,
    )
    check_reference(ctx.aid, ctx.source, outcome)
    report = grading_report(ctx, outcome)
    p.grading_report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return (
        f"reference {outcome.total:g}/{outcome.possible:g}; {outcome.wall_s:.1f} s wall, "
        f"{outcome.cpu_s:.1f} s CPU, {outcome.peak_pss_mb or outcome.peak_rss_mb:.0f} MB peak"
    )


def _blank(ctx: BuildContext) -> str:
    p = ctx.paths
    outcome = grade_submission(
        p.student_notebook, p.autograder_zip, p.grading_dir("student"), ctx.options.guard_seconds
    )
    check_blank(ctx.aid, ctx.source, outcome)
    return "untouched notebook scores 0 on every question and test case"


@dataclass(frozen=True)
class Gate:
    name: str
    alias: str  # the letter older notes and stamps used
    run: Callable[[BuildContext], str]  # raises ReleaseError; returns the log's detail
    needs_source: bool = False  # reads the linted source notebook
    output: Callable[[SetPaths], Path] | None = None  # a file it writes: missing -> rerun


GATES: tuple[Gate, ...] = (
    Gate("environment", "d", _environment),
    Gate("runner", "e", _runner),
    Gate("leaks", "c", _leaks, needs_source=True),
    Gate("reference", "a", _reference, needs_source=True, output=lambda p: p.grading_report),
    Gate("blank", "b", _blank, needs_source=True),
)


def gate_named(name: str) -> Gate:
    """A gate by its name or its letter."""
    for gate in GATES:
        if name in (gate.name, gate.alias):
            return gate
    known = ", ".join(f"{g.name} ({g.alias})" for g in GATES)
    raise KeyError(f"no gate {name!r}; the gates are {known}")


def _pending(gate: Gate, ctx: BuildContext) -> bool:
    if gate.output is not None and not gate.output(ctx.paths).exists():
        return True
    return ctx.options.force or not ctx.stamps.gate_passed(gate.name, ctx.key)


def run_gates(ctx: BuildContext) -> list[str]:
    """Run every gate not yet passed for these inputs, in order; return the names run.

    While a gate fails, dist/<id>/GATES-FAILED.txt says not to upload the build.
    """
    pending = [g for g in GATES if _pending(g, ctx)]
    failed = ctx.paths.gates_failed
    try:
        if any(g.needs_source for g in pending):
            ctx.source  # noqa: B018 - lint first: a lint error is no gate's failure
        for gate in pending:
            try:
                detail = gate.run(ctx)
            except ReleaseError as e:
                raise e.in_gate(gate.name) from None
            ctx.stamps.record_gate(gate.name, ctx.key)
            ctx.result.gates_run.append(gate.name)
            ctx.log(f"gate {gate.name} ok ({detail})")
    except ReleaseError as e:
        failed.write_text(f"Do not upload or publish this build. {e}\n", encoding="utf-8")
        raise
    failed.unlink(missing_ok=True)
    ctx.stamps.refresh_outputs(ctx.paths.dist)
    return ctx.result.gates_run
