"""grade_shard.py end to end, as the pods of the Kubernetes Indexed Job run it.

`k8s-prepare` lays out a volume with fx1's autograder and a mixed batch; two
shards run autograder/container/grade_shard.py as processes (each pod's command,
with JOB_COMPLETION_INDEX as Kubernetes sets it); `k8s-merge` builds results,
scores.csv and the report. A shard run a second time regrades nothing (a
restarted pod resumes). No cluster or image is needed: the pod's container is
replaced by this machine's Python, the runner inside is the real one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from diffcourse_staff.course import REPO_ROOT
from diffcourse_staff.grading_batch.cli import main as cli

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="the runner drops student code to nobody: it needs root"
)
GRADE_SHARD = REPO_ROOT / "autograder" / "container" / "grade_shard.py"
KINDS = ("reference", "blank", "buggy", "infinite_loop")
SHARDS = 2


def _run_shard(data: Path, index: int, timeout_s: float) -> subprocess.CompletedProcess:
    env = dict(os.environ, JOB_COMPLETION_INDEX=str(index), DIFFCOURSE_GRADING_PROFILE="cpu")
    cmd = [sys.executable, str(GRADE_SHARD), "--data", str(data), "--count", str(SHARDS)]
    cmd += ["--timeout", f"{timeout_s:g}"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=600)


@pytest.mark.slow
def test_shards_grade_every_submission_and_merge(fx1, mixed_batch, tmp_path):
    zip_path, _, _ = fx1
    subs = tmp_path / "subs"
    subs.mkdir()
    for kind in KINDS:
        shutil.copy(mixed_batch[kind], subs / f"{kind}.ipynb")
    (subs / "empty.ipynb").write_text("")  # graded as not a notebook, still accounted for
    data = tmp_path / "volume"
    args = ["k8s-prepare", "--assignment", "fx1", "--autograder", str(zip_path)]
    args += ["--submissions", str(subs), "--data", str(data), "--claim", "pvc"]
    args += ["--image", "registry.example/diffcourse-grading:cpu", "--shards", str(SHARDS)]
    args += ["--timeout", "120"]
    assert cli(args) == 0
    records = json.loads((data / "submissions.json").read_text())
    keys = [r["key"] for r in records]
    assert sorted(keys) == sorted([*KINDS, "empty"])

    # the infinite loop is stopped by the runner's own limits (then graded) or by the
    # shard's wall-clock limit (then a time-out): both must end in a results.json
    runs = [_run_shard(data, i, timeout_s=120) for i in range(SHARDS)]
    for i, run in enumerate(runs):
        mine = keys[i::SHARDS]
        assert f"shard {i}/{SHARDS}: {len(mine)} submissions" in run.stdout
        for key in mine:
            assert (data / "shards" / str(i) / key / "run-result.json").is_file(), key
    stamps = {p: p.stat().st_mtime_ns for p in (data / "shards").glob("*/*/run-result.json")}
    again = _run_shard(data, 0, timeout_s=120)  # a restarted pod: nothing is regraded
    assert "exit" not in again.stdout.split("submissions", 1)[1]
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    assert cli(["k8s-merge", "--assignment", "fx1", "--data", str(data), "--timeout", "120"]) == 0
    scores = pd.read_csv(data / "scores.csv").set_index("Submission")
    assert sorted(scores.index) == sorted(keys)
    assert scores.loc["reference", "Total"] == 8.0
    assert scores.loc["blank", "Total"] == 0.0
    assert scores.loc["buggy", "Total"] == 6.0  # q1's hidden test fails
    assert scores.loc["empty", "Total"] == 0.0
    loop = scores.loc["infinite_loop"]
    assert (loop["Outcome"], loop["Total"]) in {("graded", 8.0), ("timeout", 0.0)}
    for key in keys:
        results = json.loads((data / "submissions" / key / "results.json").read_text())
        graded = [t for t in results["tests"] if t.get("max_score")]
        assert [t["name"] for t in graded] == ["q1", "q2"], key
        assert all(t["output"] for t in graded), key  # a message on every question
    empty = json.loads((data / "submissions" / "empty" / "results.json").read_text())
    assert "could not be graded" in empty["tests"][0]["output"]
    report = (data / "report.md").read_text()
    assert "| empty |" in report.split("## Not graded cleanly")[1]
