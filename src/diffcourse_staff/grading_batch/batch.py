"""Grade a whole class: N workers, one fresh container (or sandbox) per submission, resumable.

Output folder layout (student data: keep it out of git; the default is under runs/):

    journal.sqlite               which submission is done (resume state)
    autograder/source/           the unpacked autograder zip, mounted read-only
    export/                      the unpacked Gradescope export (when a zip was given)
    submissions/<key>/           results.json, executed.ipynb (when the runner writes one),
                                 grading.json (outcome, time, memory), grader-log.txt
    scores.csv, report.md, histogram.png    (outputs.py, after the last submission)

A submission's folder is assembled under a temporary name and renamed into place
before the journal marks it done, so a run killed at any moment leaves either
the complete folder or none, and the next run regrades exactly what is missing.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from diffcourse_staff.grading_batch import scale_checks
from diffcourse_staff.grading_batch.engines import Job, Limits, RunResult
from diffcourse_staff.grading_batch.journal import Journal
from diffcourse_staff.grading_batch.outcome import (
    Summary,
    classify,
    read_results,
    review_reason,
    scores_of,
    source_questions,
)
from diffcourse_staff.grading_batch.submissions import Submission, load_submissions
from diffcourse_staff.input_hash import file_digest
from diffcourse_staff.release.grade import not_graded_results


@dataclass
class BatchConfig:
    autograder_zip: Path
    submissions: Path
    out: Path
    workers: int = 2
    profile: str = "cpu"
    gpus: list[str] = field(default_factory=list)  # one entry per GPU; workers share them
    limits: Limits = field(default_factory=Limits)
    restart: bool = False
    progress: bool = True
    scale_checks: Path | None = None  # assignments/<id>/staff: its scale_checks.yml (profile scale)


def sha256(path: Path) -> str:
    return file_digest(path)


def unpack_autograder(zip_path: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


def write_json_atomic(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _publish(staging: Path, final: Path) -> None:
    """Put a finished submission folder in place in one rename."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)


def grade_submission(engine, sub: Submission, cfg: BatchConfig, source: Path, gpu) -> Summary:
    """Grade one submission into out/submissions/<key>/; always leaves a results.json there."""
    work = cfg.out / "work" / sub.key
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    run = None
    if sub.path is not None:
        job = Job(sub.key, source, cfg.autograder_zip, sub.path, work / "out", cfg.profile, gpu)
        run = engine.run(job)
    summary = finalize_submission(sub, run, work, cfg.out, source, cfg.limits, engine.describe())
    shutil.rmtree(work, ignore_errors=True)
    return summary


def finalize_submission(
    sub: Submission,
    run: RunResult | None,
    work: Path,
    out: Path,
    source: Path,
    limits: Limits,
    engine: str,
) -> Summary:
    """results.json, grading.json and logs of one run, renamed into out/submissions/<key>/.

    `work/out` is what the grader wrote; `run` is None for a submission without files.
    Shared by grade_all and the merge of a cluster run's shards.
    """
    staging = out / "submissions" / f".{sub.key}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    questions = source_questions(source)
    grader_out = work / "out"
    if run is None:
        reason = "the export has no files for this submission"
        outcome, results, report = "no-files", not_graded_results(questions, reason), {}
    else:
        report = _read_report(grader_out)
        results = read_results(grader_out / "results.json")
        log_tail = _tail_text(grader_out / "grader-log.txt") or run.engine_log
        if results is not None and not run.timed_out:
            reason = review_reason(results) or ""
            outcome = "review" if reason else "graded"
        else:
            outcome, reason = classify(run, report, limits, log_tail)
            results = not_graded_results(questions, reason)
        for name in ("executed.ipynb", "grader-log.txt", "run.json"):
            if (grader_out / name).is_file():
                shutil.copy2(grader_out / name, staging / name)
        if (work / "out-engine.log").is_file():
            shutil.copy2(work / "out-engine.log", staging / "engine-log.txt")
    scores = scores_of(results)
    summary = Summary(
        key=sub.key,
        outcome=outcome,
        reason=reason,
        score=sum(s for s, _ in scores.values()),
        max_score=sum(p for _, p in scores.values()),
        wall_s=round(run.wall_s, 3) if run else 0.0,
        peak_memory_mb=report.get("peak_memory_mb") or (run.peak_memory_mb if run else None),
        exit_code=run.exit_code if run else None,
        runner=report.get("runner", "-"),
        engine=engine,
    )
    write_json_atomic(staging / "results.json", results)
    (staging / "grading.json").write_text(summary.to_json(), encoding="utf-8")
    _publish(staging, out / "submissions" / sub.key)
    return summary


def _read_report(out: Path) -> dict:
    try:
        data = json.loads((out / "run.json").read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _tail_text(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def grade_all(engine, cfg: BatchConfig, log=print) -> list[Submission]:
    """Grade every submission not yet done; returns the full list of submissions."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    (cfg.out / "submissions").mkdir(exist_ok=True)
    journal = Journal(cfg.out / "journal.sqlite")
    try:
        checks = cfg.scale_checks
        grading = sha256(cfg.autograder_zip)
        if checks is not None and cfg.profile != "cpu":  # its added checks decide grades too
            grading += f"+{scale_checks.digest(checks, cfg.profile)}"
        journal.bind_autograder(grading, restart=cfg.restart)
        source = unpack_autograder(cfg.autograder_zip, cfg.out / "autograder" / "source")
        if checks is not None:
            added = scale_checks.add_to_source(source, checks, cfg.profile)
            if added:
                log(f"{cfg.profile} profile: scale checks {', '.join(added)} added")
        subs = load_submissions(cfg.submissions, cfg.out / "export")
        (cfg.out / "submissions.json").write_text(
            json.dumps([_sub_record(s) for s in subs], indent=2), encoding="utf-8"
        )
        journal.add([s.key for s in subs])
        state = journal.status()
        todo = [
            s
            for s in subs
            if state.get(s.key) != "done"
            or not (cfg.out / "submissions" / s.key / "results.json").is_file()
        ]
        log(
            f"{len(subs)} submissions, {len(subs) - len(todo)} already graded, "
            f"{len(todo)} to grade with {cfg.workers} worker(s) on {engine.describe()}"
        )
        slots: queue.Queue = queue.Queue()
        for i in range(cfg.workers):
            slots.put(cfg.gpus[i % len(cfg.gpus)] if cfg.gpus else None)

        def work(sub: Submission) -> Summary:
            gpu = slots.get()
            try:
                journal.start(sub.key)
                summary = grade_submission(engine, sub, cfg, source, gpu)
                journal.finish(sub.key, summary.outcome, summary.wall_s, summary.peak_memory_mb)
                return summary
            finally:
                slots.put(gpu)

        with ThreadPoolExecutor(max_workers=cfg.workers) as pool:
            futures = {pool.submit(work, s): s for s in todo}
            bar = tqdm(total=len(todo), unit="sub", disable=not cfg.progress, smoothing=0.1)
            for future in as_completed(futures):
                summary = future.result()
                bar.update(1)
                if summary.outcome != "graded":
                    bar.write(f"{summary.key}: {summary.outcome}")
            bar.close()
    finally:
        journal.close()
    return subs


def _sub_record(s: Submission) -> dict:
    return {
        "key": s.key,
        "path": str(s.path) if s.path else None,
        "submitters": [vars(p) for p in s.submitters],
        "created_at": s.created_at,
        "gradescope_score": s.gradescope_score,
    }
