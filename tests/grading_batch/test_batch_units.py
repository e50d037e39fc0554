"""Fast tests of grade-all's parts: reading exports, the journal, outputs, engine flags."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from export_fixture import GRADES_CSV, write_export

from diffcourse_staff.grading_batch import engines
from diffcourse_staff.grading_batch.journal import Journal, JournalError
from diffcourse_staff.grading_batch.outcome import (
    Summary,
    classify,
    review_reason,
    source_questions,
)
from diffcourse_staff.grading_batch.outputs import write_report
from diffcourse_staff.grading_batch.submissions import SubmissionsError, load_submissions


def _notebook(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_export_zip_in_gradescope_layout(tmp_path):
    nb = _notebook(tmp_path / "nb.ipynb")
    export = write_export(tmp_path, nb, nb)
    subs = {s.key: s for s in load_submissions(export, tmp_path / "unpacked")}
    assert set(subs) == {"submission_201", "submission_202", "submission_203"}
    pair = subs["submission_201"]
    assert [(p.sid, p.email) for p in pair.submitters] == [
        ("9000001", "alex@example.edu"),
        ("9000002", "sam@example.edu"),
    ]
    assert pair.path.is_dir() and (pair.path / "fx1.ipynb").is_file()
    assert pair.gradescope_score == 8.0 and pair.created_at.startswith("2027-02-02")
    assert subs["submission_203"].path is None  # listed without files: kept, graded as empty


def test_folder_not_in_metadata_is_still_graded(tmp_path):
    root = tmp_path / "export"
    (root / "submission_1").mkdir(parents=True)
    (root / "submission_2").mkdir()
    meta = "submission_1:\n  :submitters:\n  - :name: A\n    :sid: '1'\n    :email: a@x.edu\n"
    (root / "submission_metadata.yml").write_text(meta)
    subs = {s.key: s for s in load_submissions(root, tmp_path / "u")}
    assert set(subs) == {"submission_1", "submission_2"}
    assert subs["submission_2"].submitters == [] and subs["submission_2"].sids == "submission_2"


def test_plain_folder_keys_are_unique_and_strays_are_refused(tmp_path):
    _notebook(tmp_path / "subs" / "ann.ipynb")
    (tmp_path / "subs" / "ann.zip").write_bytes(b"PK")
    subs = load_submissions(tmp_path / "subs", tmp_path / "u")
    assert sorted(s.key for s in subs) == ["ann", "ann-2"]
    (tmp_path / "subs" / "notes.txt").write_text("x")
    with pytest.raises(SubmissionsError, match=r"notes.txt: not a submission"):
        load_submissions(tmp_path / "subs", tmp_path / "u")


def test_bad_inputs_name_the_file(tmp_path):
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("a.ipynb", "{}")
    with pytest.raises(SubmissionsError, match=r"plain.zip: no submission_metadata.yml"):
        load_submissions(plain, tmp_path / "u")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "submission_metadata.yml").write_text("submission_1: [1, 2\n")
    with pytest.raises(SubmissionsError, match=r"submission_metadata.yml: not valid YAML"):
        load_submissions(bad, tmp_path / "u")


def test_journal_resumes_and_refuses_another_autograder(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    j.bind_autograder("aaa")
    j.add(["s1", "s2", "s3"])
    j.start("s1")
    j.finish("s1", "graded", 1.0, 10.0)
    j.start("s2")  # killed here: s2 stays running
    j.close()
    j = Journal(tmp_path / "j.sqlite")
    j.bind_autograder("aaa")
    j.add(["s1", "s2", "s3"])
    assert j.status() == {"s1": "done", "s2": "running", "s3": "pending"}
    with pytest.raises(JournalError, match="another autograder zip"):
        j.bind_autograder("bbb")
    j.bind_autograder("bbb", restart=True)
    assert j.status() == {}


def test_classify_names_the_cause():
    lim = engines.Limits(memory_mb=512, timeout_s=30)
    run = engines.RunResult(exit_code=None, timed_out=True, wall_s=30)
    assert classify(run, {}, lim, "")[0] == "timeout"
    run = engines.RunResult(exit_code=137, timed_out=False, wall_s=3)
    assert classify(run, {}, lim, "") == (
        "memory",
        "the submission used more than the memory limit of 512 MB",
    )
    run = engines.RunResult(exit_code=0, timed_out=False, wall_s=3)
    log = "Traceback...\nnbclient.exceptions.DeadKernelError: Kernel died\n  otter v7.0.0"
    outcome, reason = classify(run, {"exit_code": 1}, lim, log)
    assert outcome == "crashed" and reason.endswith("DeadKernelError: Kernel died")
    run = engines.RunResult(exit_code=125, timed_out=False, wall_s=0.1)
    assert classify(run, {}, lim, "Error: no such image")[0] == "engine-error"


def _fake_output(folder: Path, subs: dict[str, tuple[str, dict]], people: dict) -> None:
    """An output folder as grade_all leaves it: per key (outcome, {question: score})."""
    records = []
    for key, (outcome, scores) in subs.items():
        d = folder / "submissions" / key
        d.mkdir(parents=True)
        tests = [{"name": q, "score": s, "max_score": 4.0} for q, s in scores.items()]
        (d / "results.json").write_text(json.dumps({"tests": tests, "output": ""}))
        summary = Summary(key, outcome, "why" if outcome != "graded" else "", sum(scores.values()),
                          8.0, 2.0 + len(records), 100.0, 0, "runner", "podman")  # fmt: skip
        (d / "grading.json").write_text(summary.to_json())
        records.append({"key": key, "submitters": people.get(key, []), "gradescope_score": None})
    (folder / "submissions.json").write_text(json.dumps(records))


def test_scores_csv_and_report_from_two_shards(tmp_path):
    p = lambda sid: {"name": f"N{sid}", "sid": sid, "email": f"{sid}@x.edu"}  # noqa: E731
    _fake_output(
        tmp_path / "shard0",
        {"submission_201": ("graded", {"q1": 4.0, "q2": 4.0})},
        {"submission_201": [p("9000001"), p("9000002")]},
    )
    _fake_output(
        tmp_path / "shard1",
        {
            "submission_202": ("graded", {"q1": 4.0, "q2": 0.0}),
            "submission_203": ("timeout", {"q1": 0.0, "q2": 0.0}),
        },
        {"submission_202": [p("9000003")], "submission_203": [p("9000004")]},
    )
    (tmp_path / "grades.csv").write_text(GRADES_CSV)
    out = tmp_path / "merged"
    counts = write_report(
        [tmp_path / "shard0", tmp_path / "shard1"], out, "fx1", tmp_path / "grades.csv"
    )
    assert counts == {"graded": 2, "timeout": 1}
    scores = pd.read_csv(out / "scores.csv", dtype={"SID": str})
    assert list(scores.columns) == [
        "SID", "Email", "Name", "Total", "Max Points", "q1", "q2", "Outcome", "Submission"
    ]  # fmt: skip
    assert scores.set_index("SID")["Total"].to_dict() == {
        "9000001": 8.0, "9000002": 8.0, "9000003": 4.0, "9000004": 0.0
    }  # fmt: skip
    report = (out / "report.md").read_text()
    assert "| submission_203 | timeout | why |" in report
    assert "N9000001" not in report and "@x.edu" not in report  # the report names no student
    assert "0 students gain points, 1 lose points, 3 unchanged" in report
    assert "| 4 | 4 | 0 | q1 0->4, q2 4->0 |" in report  # same total, other questions
    diff = pd.read_csv(out / "gradescope-comparison.csv", dtype={"SID": str}).set_index("SID")
    # Kim: Gradescope 0 + 4, here 4 + 0; Lee: 4 on Gradescope, 0 here (timed out)
    assert diff.loc["9000003", "delta"] == 0.0
    assert diff.loc["9000003", "questions"] == "q1 0->4, q2 4->0"
    assert diff.loc["9000004", "delta"] == -4.0 and diff.loc["9000004", "questions"] == "q1 4->0"
    assert "1 lose points" in report and (out / "histogram.png").stat().st_size > 1000


def test_source_questions_read_the_zip_tests(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "q1.py").write_text(
        "test = {'name': 'q1', 'points': [1, 2], 'suites': []}"
    )
    (tmp_path / "tests" / "q2.py").write_text("test = {'name': 'q2', 'points': 4, 'suites': []}")
    assert source_questions(tmp_path) == {"q1": 3.0, "q2": 4.0}


def _job(tmp_path, gpu=None, runner=False):
    src = tmp_path / "src"
    (src / "diffcourse_grading").mkdir(parents=True, exist_ok=True)
    if runner:
        (src / "diffcourse_grading" / "run.py").write_text("")
    sub = _notebook(tmp_path / "s" / "a.ipynb")
    return engines.Job("a", src, tmp_path / "ag.zip", sub, tmp_path / "out", "scale", gpu)


def test_container_command_isolates_the_submission(tmp_path):
    engine = engines.ContainerEngine("podman", "img:cpu", engines.Limits(memory_mb=768, pids=64))
    cmd = engine.command(_job(tmp_path), "n1")
    joined = " ".join(cmd)
    for flag in ("--network none", "--read-only", "--cap-drop all", "--pids-limit 64"):
        assert flag in joined
    assert "--memory 768m --memory-swap 768m" in joined  # no swap beyond the limit
    assert "--user 65534:65534" in joined  # an old zip: Otter and student code as nobody
    assert f"{tmp_path / 'src'}:/grading/source:ro" in joined
    assert "DIFFCOURSE_GRADING_PROFILE=scale" in joined and "--gpus" not in joined
    runner_cmd = " ".join(engine.command(_job(tmp_path, runner=True), "n2"))
    assert "--user" not in runner_cmd and "--cap-add SETUID" in runner_cmd
    assert "--cap-add SYS_ADMIN" not in runner_cmd


def test_gpu_flags_per_engine(tmp_path):
    lim = engines.Limits()
    docker = " ".join(engines.ContainerEngine("docker", "i", lim).command(_job(tmp_path, "1"), "n"))
    assert "--gpus device=1" in docker and "DIFFCOURSE_GRADING_DEVICE=cuda" in docker
    podman = engines.ContainerEngine("podman", "i", lim).command(_job(tmp_path, "1"), "n")
    assert "nvidia.com/gpu=1" in podman


def test_a_complete_results_json_can_still_need_review():
    clean = {"tests": [{"name": "q1", "score": 4, "max_score": 4, "output": "passed"}]}
    assert review_reason(clean) is None
    broken = {
        "tests": [
            {"name": "Public tests", "max_score": None, "output": "not graded: see below"},
            {"name": "q1", "score": 0, "max_score": 4, "output": "not graded: the grader failed"},
        ]
    }
    assert review_reason(broken) == "q1: not graded: the grader failed"
