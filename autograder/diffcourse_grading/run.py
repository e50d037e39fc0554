"""Grade one submission and write results.json, whatever the submission does.

    python -m diffcourse_grading.run --source SRC --submission SUB --results OUT.json
        [--executed-notebook NB] [--profile NAME]

SRC is the unpacked autograder zip (Gradescope's /autograder/source): tests/,
reference/, files/ and grading_config.json. SUB is a notebook, an Otter export
zip or a folder (Gradescope's /autograder/submission). The exit status is 0
unless the grader itself is broken, and even then a results.json is written.

The submission's code runs only in the worker (see worker.py and
supervisor.py); the tests run here against proxies (testing.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import types
from pathlib import Path

from diffcourse_grading.otter_stub import otter_stub
from diffcourse_grading.results import QuestionResult, not_graded, not_graded_results, results_json
from diffcourse_grading.submission import SubmissionError, read_submission
from diffcourse_grading.supervisor import Limits, Supervisor
from diffcourse_grading.testing import QuestionGrading, read_tests

CONFIG_FILE = "grading_config.json"
REFERENCE_MODULE = "__grading_reference__"
GRADESCOPE_SOURCE = Path("/autograder/source")


def load_config(source: Path) -> dict:
    path = source / CONFIG_FILE
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def load_reference(source: Path) -> tuple[dict, dict[str, list[str]]]:
    """The reference namespace and question -> names it defines (empty without reference/)."""
    ref_dir = source / "reference"
    code_path, map_path = ref_dir / "solutions.py", ref_dir / "questions.json"
    if not code_path.exists() or not map_path.exists():
        return {}, {}
    module = types.ModuleType(REFERENCE_MODULE)
    sys.modules[REFERENCE_MODULE] = module
    sys.modules.setdefault("otter", otter_stub())  # the notebook's `import otter` only
    code = compile(code_path.read_text(encoding="utf-8"), str(code_path), "exec")
    exec(code, module.__dict__)  # trusted: staff code from the zip
    names = json.loads(map_path.read_text(encoding="utf-8"))
    return module.__dict__, {str(q): [str(n) for n in v] for q, v in names.items()}


def injections(question: str, ref_ns: dict, names: dict[str, list[str]]) -> dict:
    """Reference functions of every other question, to replace the student's in calls."""
    out = {}
    for q, defined in names.items():
        if q == question:
            continue
        for n in defined:
            if callable(ref_ns.get(n)):
                out[n] = ref_ns[n]
    own = set(names.get(question, []))
    return {k: v for k, v in out.items() if k not in own}


def grade(args) -> dict:
    t0 = time.monotonic()
    source = Path(args.source).resolve()
    config = load_config(source)
    limits = Limits.from_dict(config.get("limits", {}))
    scale = float(os.environ.get("DIFFCOURSE_GRADING_TIME_SCALE", "1") or 1)
    if scale != 1:  # a busy staff machine: every time limit stretched alike
        for key in ("cell_timeout", "call_timeout", "question_timeout", "notebook_timeout"):
            setattr(limits, key, getattr(limits, key) * scale)
        limits.total_timeout *= scale
    questions = read_tests(source / "tests", config.get("questions"))
    assignment = config.get("assignment")
    staff: dict = {"limits": limits.__dict__, "flags": {}, "review_notes": []}

    try:
        cells, found = read_submission(Path(args.submission), assignment)
    except SubmissionError as e:
        results = [not_graded(q.name, q.possible, f"not graded: {e}") for q in questions]
        return results_json(results, f"Your submission could not be graded: {e}", staff, [])
    staff["submission_file"] = found

    from diffcourse_grading.tamper import scan_source

    staff["review_notes"] = [str(f) for f in scan_source(cells)]

    files = source / "files"
    if files.is_dir() and str(files) not in sys.path:
        sys.path.insert(0, str(files))
    try:
        ref_ns, ref_names = load_reference(source)
    except Exception:  # noqa: BLE001 - grade with the student's own functions, tell staff
        ref_ns, ref_names = {}, {}
        staff["reference_error"] = traceback.format_exc(limit=-3)[-3000:]
    device = args.device
    # CUDA state does not survive a fork: the worker serves calls itself, fresh per question
    per_question = args.worker_per_question or device == "cuda"
    sup = Supervisor(
        cells,
        files if files.is_dir() else None,
        limits,
        protect=[source / "tests", source / "reference"],
        device=device,
        kill_uid=source == GRADESCOPE_SOURCE,
        audited=[source / "tests", source / "reference", Path(args.results).resolve()],
        worker_per_question=per_question,
        decoy_tests=sorted(p.name for p in (source / "tests").glob("*.py")),
    )
    context = {"GRADING_PROFILE": args.profile, "GRADING_DEVICE": device}
    out: list[QuestionResult] = []
    notebook_notes: list[str] = []
    try:
        budget = min(limits.notebook_timeout, limits.total_timeout - (time.monotonic() - t0))
        outcomes = sup.run_notebook(budget)
        for o in outcomes:
            if o.stopped:
                notebook_notes.append(f"cell {o.index + 1}: {o.stopped}")
            elif o.error:
                notebook_notes.append(f"cell {o.index + 1} raised {o.error}")
        staff["sandbox"] = sup.sandbox
        reached = sup.audit()
        if reached:  # during the notebook: every question
            sup.flags.extend(f"the notebook {r}" for r in reached)
        for q in questions:
            left = limits.total_timeout - (time.monotonic() - t0)
            if left <= 1:
                out.append(
                    not_graded(
                        q.name,
                        q.possible,
                        f"{q.name}: not graded: grading as a whole reached its limit of "
                        f"{limits.total_timeout:g} s",
                    )
                )
                continue
            sup.new_question()
            g = QuestionGrading(q, sup, injections(q.name, ref_ns, ref_names), context)
            g.deadline = time.monotonic() + left
            out.append(g.run())
        sup.find_detached()
        staff["flags"] = {r.name: r.flags for r in out if r.flags}
        if sup.flags:
            staff["worker_flags"] = sup.flags
            for r in out:
                r.flags.extend(f for f in sup.flags if f not in r.flags)
    finally:
        staff["peak_worker_rss_mb"] = round(sup.memory.peak_rss / 2**20, 1)
        staff["restarts"] = sup.restarts
        staff["call_processes"] = sup.forks
        staff["runner_notes"] = sup.notes
        staff["worker_per_question"] = per_question
        sup.close()  # kills every process the submission left behind, before writing
    staff["seconds"] = round(time.monotonic() - t0, 2)
    if args.executed_notebook:
        write_executed_notebook(Path(args.executed_notebook), cells, sup.cell_outcomes)
    return results_json(out, "", staff, notebook_notes)


def write_executed_notebook(path: Path, cells: list[str], outcomes: dict) -> None:
    """The submitted code cells, each with what happened to it (outputs are not kept)."""
    nb_cells = []
    for i, src in enumerate(cells):
        o = outcomes.get(i)
        outputs = []
        text = None if o is None else (o.stopped or o.error)
        if text:
            outputs.append({"output_type": "stream", "name": "stderr", "text": text + "\n"})
        nb_cells.append(
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": None,
                "source": src,
                "outputs": outputs,
            }
        )
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": nb_cells}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def fallback(args, error: str) -> dict:
    """results.json when the grader itself failed: every question 0, staff will grade."""
    questions = {}
    try:
        questions = {q.name: q.possible for q in read_tests(Path(args.source) / "tests")}
    except Exception:  # noqa: BLE001
        pass
    return not_graded_results(
        questions, "the autograder itself failed", {"grader_error": error[-8000:]}
    )


def write_results(path: Path, results: dict) -> None:
    """Write atomically through a fresh file (never through a name someone prepared)."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m diffcourse_grading.run", description=__doc__)
    p.add_argument("--source", required=True, help="the unpacked autograder zip")
    p.add_argument("--submission", required=True, help="a notebook, an export zip or a folder")
    p.add_argument("--results", required=True, help="where to write results.json")
    p.add_argument("--executed-notebook", help="also write the code cells and what happened")
    p.add_argument(
        "--profile",
        default=os.environ.get("DIFFCOURSE_GRADING_PROFILE", "cpu"),
        help="passed to the tests as GRADING_PROFILE (default: cpu)",
    )
    p.add_argument(
        "--device",
        default=os.environ.get("DIFFCOURSE_GRADING_DEVICE", "cpu"),
        choices=["cpu", "cuda"],
        help="passed to the tests as GRADING_DEVICE, and the worker's device",
    )
    p.add_argument(
        "--worker-per-question",
        action="store_true",
        default=os.environ.get("DIFFCOURSE_GRADING_WORKER_PER_QUESTION", "") not in ("", "0"),
        help="serve calls in the worker itself, started afresh for every question "
        "(always with --device cuda: CUDA state does not survive a fork)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        results = grade(args)
    except BaseException:  # noqa: BLE001 - whatever happens, a results.json is written
        results = fallback(args, traceback.format_exc())
        write_results(Path(args.results), results)
        print(traceback.format_exc(), file=sys.stderr)
        return 1
    write_results(Path(args.results), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
