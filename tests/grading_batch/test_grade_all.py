"""grade-all end to end on the fx1 assignment: the local sandbox, the container, resuming.

Each grading runs Otter (or the isolated runner) for real on fx1's autograder zip.
The mixed batch holds one submission for each way a grading can end (see
mixed_batch.EXPECTED). The container tests build the CPU image with podman first
(minutes the first time; cached layers afterwards) and are marked slow.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from export_fixture import write_export
from mixed_batch import EXPECTED_OTTER, HOSTILE

from diffcourse_staff.grading_batch.cli import main as cli
from diffcourse_staff.grading_batch.engines import memory_group_available

pytestmark = pytest.mark.skipif(
    not shutil.which("bwrap") or os.geteuid() != 0,
    reason="the grading sandboxes need root and bubblewrap (make container-deps)",
)
TIMEOUT_S = 150  # outer limit per submission: above a reference grading on a busy machine
MEMORY_MB = 1536


def _grade(zip_path: Path, subs: Path, out: Path, engine: str, *extra: str) -> None:
    args = ["grade", "--assignment", "fx1", "--autograder", str(zip_path)]
    args += ["--submissions", str(subs), "--out", str(out), "--engine", engine, "--no-progress"]
    args += ["--timeout", str(TIMEOUT_S), "--memory-mb", str(MEMORY_MB), "--workers", "2"]
    assert cli([*args, *extra]) == 0


def _outcome(out: Path, kind: str) -> tuple[str, dict, dict]:
    folder = out / "submissions" / kind
    summary = json.loads((folder / "grading.json").read_text())
    results = json.loads((folder / "results.json").read_text())
    scores = {t["name"]: t["score"] for t in results["tests"] if t["name"] in ("q1", "q2")}
    return summary["outcome"], scores, results


def _check_mixed(out: Path, batch: dict[str, Path], runner: bool) -> None:
    """Every submission of the mixed batch ended as expected, with a complete results.json."""
    unclean = (out / "report.md").read_text().split("## Not graded cleanly")[1]
    for kind, (outcome, scores) in EXPECTED_OTTER.items():
        got, got_scores, results = _outcome(out, kind)
        if runner and kind in HOSTILE:
            assert (got, got_scores) == ("graded", {"q1": 4.0, "q2": 4.0}) or (
                got != "graded" and got_scores == {"q1": 0, "q2": 0}
            ), (kind, got, got_scores)
        else:
            assert (got, got_scores) == (outcome, scores), (kind, got)
        if got != "graded":
            assert all("ot graded" in t["output"] for t in results["tests"] if t.get("max_score"))
            assert f"| {kind} |" in unclean
    table = pd.read_csv(out / "scores.csv")
    assert sorted(table["Submission"]) == sorted(batch)
    assert [c for c in table.columns if c.startswith("q")] == ["q1", "q2"]


@pytest.fixture(scope="session")
def otter_zip(fx1, tmp_path_factory):
    """fx1's zip without the isolated runner, as zips built before it: the Otter fallback."""
    src, _, _ = fx1
    dest = tmp_path_factory.mktemp("otter-zip") / "fx1-autograder.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for item in zin.infolist():
            if item.filename != "diffcourse_grading/run.py":
                zout.writestr(item, zin.read(item))
    return dest


@pytest.mark.slow
def test_export_zip_through_the_local_sandbox(fx1, tmp_path):
    zip_path, solution, student = fx1
    export = write_export(tmp_path, solution, student)
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="LOCAL SANDBOX"):
        _grade(zip_path, export, out, "local")
    scores = pd.read_csv(out / "scores.csv", dtype={"SID": str}).set_index("SID")
    assert scores["Total"].to_dict() == {
        "9000001": 8.0, "9000002": 8.0, "9000003": 0.0, "9000004": 0.0
    }  # fmt: skip
    assert scores.loc["9000004", "Outcome"] == "no-files"
    assert scores.loc["9000001", "Email"] == "alex@example.edu"
    missing = json.loads((out / "submissions" / "submission_203" / "results.json").read_text())
    assert [t["score"] for t in missing["tests"]] == [0, 0]
    assert "no files" in missing["tests"][0]["output"]
    peak = json.loads((out / "submissions" / "submission_201" / "grading.json").read_text())
    if memory_group_available():
        assert 20 < peak["peak_memory_mb"] < MEMORY_MB


@pytest.mark.slow
def test_mixed_batch_through_the_local_sandbox_with_otter(otter_zip, mixed_batch, tmp_path):
    folder = next(iter(mixed_batch.values())).parent
    with pytest.warns(UserWarning):
        _grade(otter_zip, folder, tmp_path / "out", "local")
    _check_mixed(tmp_path / "out", mixed_batch, runner=False)
    ref = json.loads((tmp_path / "out" / "submissions" / "reference" / "grading.json").read_text())
    assert ref["runner"].startswith("otter run")


@pytest.mark.slow
def test_mixed_batch_through_the_local_sandbox_with_the_runner(fx1, mixed_batch, tmp_path):
    zip_path, _, _ = fx1
    folder = next(iter(mixed_batch.values())).parent
    with pytest.warns(UserWarning):
        _grade(zip_path, folder, tmp_path / "out", "local")
    _check_mixed(tmp_path / "out", mixed_batch, runner=True)
    ref = json.loads((tmp_path / "out" / "submissions" / "reference" / "grading.json").read_text())
    assert ref["runner"] == "diffcourse_grading.run"


@pytest.fixture(scope="session")
def cpu_image():
    if not shutil.which("podman"):
        pytest.skip("podman is not installed (make container-deps)")
    from diffcourse_staff.grading_batch.image import build_image

    return build_image("cpu", "podman")


@pytest.mark.slow
def test_mixed_batch_through_the_container(fx1, mixed_batch, cpu_image, tmp_path):
    zip_path, _, _ = fx1
    folder = next(iter(mixed_batch.values())).parent
    _grade(zip_path, folder, tmp_path / "out", "podman", "--image", cpu_image)
    _check_mixed(tmp_path / "out", mixed_batch, runner=True)
    ref = json.loads((tmp_path / "out" / "submissions" / "reference" / "grading.json").read_text())
    assert ref["engine"].startswith("podman") and 20 < ref["peak_memory_mb"] < MEMORY_MB


@pytest.mark.slow
def test_a_killed_run_resumes_without_regrading(fx1, mixed_batch, tmp_path):
    zip_path, _, _ = fx1
    subs = tmp_path / "subs"
    subs.mkdir()
    for kind in ("reference", "blank", "buggy"):
        for i in range(2):
            shutil.copy(mixed_batch[kind], subs / f"{kind}{i}.ipynb")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "diffcourse_staff.grading_batch", "grade", "--assignment", "fx1"]
    cmd += ["--autograder", str(zip_path), "--submissions", str(subs), "--out", str(out)]
    cmd += ["--engine", "local", "--workers", "2", "--no-progress"]
    proc = subprocess.Popen(cmd, start_new_session=True, stderr=subprocess.DEVNULL)
    journal = out / "journal.sqlite"
    deadline = time.monotonic() + 300
    done: list[str] = []
    while time.monotonic() < deadline and len(done) < 2:
        time.sleep(0.5)
        try:
            with sqlite3.connect(journal) as db:
                done = [k for (k,) in db.execute("SELECT key FROM grading WHERE status='done'")]
        except sqlite3.OperationalError:  # not created yet
            continue
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 2 <= len(done) < 6, done
    before = {k: (out / "submissions" / k / "grading.json").stat().st_mtime_ns for k in done}
    assert not (out / "scores.csv").exists()
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    with sqlite3.connect(journal) as db:
        rows = dict(db.execute("SELECT key, attempts FROM grading"))
        status = {s for (s,) in db.execute("SELECT status FROM grading")}
    assert status == {"done"} and len(rows) == 6
    assert all(rows[k] == 1 for k in done)  # graded once, not again
    for k in done:
        assert (out / "submissions" / k / "grading.json").stat().st_mtime_ns == before[k]
    scores = pd.read_csv(out / "scores.csv").set_index("Submission")["Total"].to_dict()
    assert scores == {"reference0": 8.0, "reference1": 8.0, "blank0": 0.0, "blank1": 0.0,
                      "buggy0": 6.0, "buggy1": 6.0}  # fmt: skip
    assert not list((out / "submissions").glob(".*partial"))


@pytest.mark.gpu
@pytest.mark.skipif(not shutil.which("nvidia-smi"), reason="no NVIDIA driver")  # before fx1
def test_gpu_worker_gets_a_cuda_device(fx1, tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    zip_path, solution, _ = fx1
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(solution, subs / "reference.ipynb")
    with pytest.warns(UserWarning):
        _grade(zip_path, subs, tmp_path / "out", "local", "--gpus", "0", "--workers", "1")
    results = json.loads(
        (tmp_path / "out" / "submissions" / "reference" / "results.json").read_text()
    )
    assert results["score"] == 8.0 or sum(t["score"] for t in results["tests"]) == 8.0
