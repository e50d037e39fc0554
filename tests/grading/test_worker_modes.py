"""How calls are served: a fork of the worker per test case (the default), the worker
itself when it cannot fork, and a fresh worker per question (CUDA, whose state does not
survive a fork; forced here on CPU with --worker-per-question)."""

from __future__ import annotations

import json

import pytest
import torch

from tests.grading.conftest import grade, make_source, notebook

LIMITS = {"cell_timeout": 30, "call_timeout": 6, "question_timeout": 20, "processes": 24}

TESTS = {
    # q2's bump is replaced by the reference (returns 100) while q1 is graded
    "q1": [("assert count == 0\nassert uses_bump() == 101", True)],
    # bump changes a global: its second call sees the first one's change only when both
    # share a process; the submission's own bump again after q1's injection
    "q2": [("assert bump() == 1\nassert bump() == 2", True), ("assert bump() == 1", True)],
    "q3": [("assert spin() == 0", True), ("assert uses_bump() == 101", True)],  # a hang
    "q4": [("assert count == 0\nassert uses_bump() == 101", True)],  # fresh after the hang
}
POINTS = {q: 1.0 for q in TESTS}
REFERENCE = "def bump():\n    return 100\n"
REFERENCE_NAMES = {"q2": ["bump"]}
CELLS = [
    "count = 0\n\n\ndef bump():\n    global count\n    count += 1\n    return count",
    "def uses_bump():\n    return bump() + 1",
    "def spin():\n    while True:\n        pass",
]
# fills the worker's process budget (RLIMIT_NPROC) with sleepers: no call can fork after it
FORK_FLOOD = (
    "import os, time\n"
    "for _ in range(200):  # bounded: without the limit (not root) this is no fork bomb\n"
    "    try:\n"
    "        pid = os.fork()\n"
    "    except OSError:\n"
    "        break\n"
    "    if pid == 0:\n"
    "        time.sleep(3600)\n"
    "        os._exit(0)"
)


def _grade(tmp_path, cells, *extra):
    src = make_source(tmp_path, TESTS, POINTS, REFERENCE, REFERENCE_NAMES, LIMITS)
    sub = tmp_path / "hw.ipynb"
    sub.write_text(json.dumps(notebook(*cells)))
    data = grade(src, sub, tmp_path / "out", *extra)
    scores = {q: t["score"] for q, t in data["_questions"].items()}
    return data, scores, data["extra_data"]["diffcourse_grading"]


def test_each_test_case_gets_a_fresh_fork(tmp_path):
    data, scores, staff = _grade(tmp_path, CELLS)
    assert scores == {"q1": 1.0, "q2": 1.0, "q3": 0.0, "q4": 1.0}, data["_questions"]
    assert "your spin did not return within 6 s" in data["_questions"]["q3"]["output"]
    assert staff["worker_per_question"] is False and staff["runner_notes"] == []
    # one process per test case (the names' lookup shares the first case's; q3's second
    # case is not run after the hang)
    assert staff["call_processes"] == 1 + 2 + 1 + 1


def test_worker_per_question_on_cpu(tmp_path):
    """The CUDA path, exercised on CPU: every question starts from a freshly run notebook;
    within a question the calls share the worker."""
    data, scores, staff = _grade(tmp_path, CELLS, "--worker-per-question")
    assert staff["worker_per_question"] is True
    # q2's second case shares the worker with the first: its count goes on (3, not 1)
    out = data["_questions"]["q2"]["output"]
    assert "test 1 (hidden) passed" in out and "test 2 (hidden) failed" in out, out
    # q4 starts from the notebook's count (q2 left 3 in its worker; q3's hang killed it)
    assert scores == {"q1": 1.0, "q2": 0.5, "q3": 0.0, "q4": 1.0}, data["_questions"]
    assert "your spin did not return within 6 s" in data["_questions"]["q3"]["output"]
    assert staff["restarts"] == 0  # a fresh worker per question is the mode, not a crash


def test_calls_survive_a_notebook_that_uses_up_the_processes(tmp_path):
    """No call can fork: the worker serves them itself, and puts each submitted function
    back after the reference replaced it during another question's call."""
    data, scores, staff = _grade(tmp_path, [*CELLS, FORK_FLOOD])
    if "not dropped" in staff["sandbox"].get("user", ""):
        pytest.skip("RLIMIT_NPROC is set only when the grader runs as root")
    assert scores == {"q1": 1.0, "q2": 0.5, "q3": 0.0, "q4": 1.0}, data["_questions"]
    assert any("served by the worker itself" in n for n in staff["runner_notes"]), staff


@pytest.mark.gpu
def test_cuda_grading_uses_a_worker_per_question(tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    cells = [
        "import torch\n\n\ndef on_gpu():\n    return torch.ones(3, device='cuda').sum().item()"
    ]
    src = make_source(tmp_path, {"q1": [("assert on_gpu() == 3.0", True)]}, {"q1": 1.0})
    sub = tmp_path / "hw.ipynb"
    sub.write_text(json.dumps(notebook(*cells)))
    data = grade(src, sub, tmp_path / "out", "--device", "cuda")
    assert data["_questions"]["q1"]["score"] == 1.0, data["_questions"]["q1"]["output"]
    assert data["extra_data"]["diffcourse_grading"]["worker_per_question"] is True
