"""Tampering that the sandbox blocks is also flagged for review: each attempt scores its
question 0 with a message naming what was seen, and results.json says so overall.

One grading: each question calls a function that tries one thing (Otter's grading
machinery, the test files where Otter keeps them, Otter's results file, another
process's memory); one only reads the test files (no flag); and the notebook leaves a
detached process behind (every question flagged)."""

from __future__ import annotations

import json
import os

import pytest

from tests.grading.conftest import grade, make_source, notebook

TESTS = {
    "q1": [("assert use_otter() == 1", True)],
    "q2": [("assert rewrite_tests() == 1", True)],
    "q3": [("assert find_results() == 1", True)],
    "q4": [("assert read_memory() == 1", True)],
    "q5": [("assert read_tests() == 1", True)],
    "q6": [("assert write_results() == 1", True)],
}
CELLS = [
    "import glob, importlib, os, subprocess, sys, tempfile",
    "def use_otter():\n"
    "    try:\n"
    "        importlib.import_module('otter.test_files')\n"
    "    except ImportError:\n"
    "        pass\n"
    "    return 1",
    "def rewrite_tests():\n"
    "    for path in glob.glob('tests/*.py'):\n"
    "        with open(path, 'a') as f:\n"
    "            f.write('# all passed')\n"
    "    return 1",
    "def find_results():\n"
    "    for path in glob.glob(os.path.join(tempfile.gettempdir(), '*.pkl')):\n"
    "        open(path, 'rb').read()\n"
    "    return 1",
    "def read_memory():\n"
    "    try:\n"  # the map first, as a memory reader does (refused to nobody for root)
    "        open(f'/proc/{os.getppid()}/maps').read()\n"
    "        open(f'/proc/{os.getppid()}/mem', 'rb')\n"
    "    except OSError:\n"
    "        pass\n"
    "    return 1",
    "def read_tests():\n    return 1 if [open(p).read() for p in glob.glob('tests/*.py')] else 0",
    "def write_results():\n"  # where Gradescope keeps them, next to the working folder
    "    for path in glob.glob('../results/*.json'):\n"
    "        open(path, 'w').write('{\"score\": 100}')\n"
    "    return 1",
]
DETACHED = (
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'],"
    " start_new_session=True)"
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("tamper")
    src = make_source(root, TESTS, {q: 1.0 for q in TESTS}, limits={"call_timeout": 20})
    sub = root / "hw.ipynb"
    sub.write_text(json.dumps(notebook(*CELLS)))
    plain = grade(src, sub, root / "plain")
    sub.write_text(json.dumps(notebook(*CELLS, DETACHED)))
    detached = grade(src, sub, root / "detached")
    return plain, detached


def test_each_attempt_flags_its_question(graded):
    plain, _ = graded
    out = {q: t["output"] for q, t in plain["_questions"].items()}
    scores = {q: t["score"] for q, t in plain["_questions"].items()}
    assert scores == {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q5": 1.0, "q6": 0}, out
    assert out["q1"].startswith(
        "flagged for review: use_otter tried to use Otter's grading machinery "
        "(import otter.test_files)"
    )
    assert "rewrite_tests tried to change the test files (open " in out["q2"]
    assert "find_results looked for Otter's results file" in out["q3"]
    if os.geteuid() == 0:  # the audit hook is the same; only root's worker is sandboxed
        assert "read_memory tried to read another process's memory (/proc/" in out["q4"]
    assert "flagged" not in out["q5"]  # reading the (decoy) test files is harmless
    assert "write_results tried to write the results (open " in out["q6"]
    assert plain["output"].startswith("This submission was flagged for review (q1, q2, q3, q4, q6)")
    staff = plain["extra_data"]["diffcourse_grading"]
    assert set(staff["flags"]) == {"q1", "q2", "q3", "q4", "q6"}


def test_a_detached_process_flags_the_submission(graded):
    _, detached = graded
    for q, t in detached["_questions"].items():
        assert t["score"] == 0, q
        assert "the notebook started a process that detached itself" in t["output"], q
    assert detached["output"].startswith("This submission was flagged for review")
