"""The runner end to end: a notebook that misbehaves in every way at once is graded,
question by question, within the limits, and results.json is always written.

One grading of `MIXED` (about 20 s on a quiet machine, torch imported twice) serves
most tests; the limits are small so that hangs cost little.
"""

from __future__ import annotations

import json
import os
import time
import zipfile

import pytest
from diffcourse_grading.submission import read_submission

from tests.grading.conftest import grade, make_source, notebook

LIMITS = {
    "cell_timeout": 8,
    "call_timeout": 8,
    "question_timeout": 16,
    "memory_mb": 900,
    "processes": 64,
}

TESTS = {
    # q1's function is buggy; q2's function calls it: q2 must not lose points for it
    "q1": [("assert add_one(1) == 2, 'add_one(1) should be 2'", False)],
    "q2": [
        ("assert twice_add_one(3) == 8", False),
        ("assert twice_add_one(0) == 2, 'twice_add_one(0) should be 2'", True),
    ],
    "q3": [("assert spin(1) == 1", True), ("assert add_one(1) == 2", True)],  # a hang
    "q4": [("x = bomb()", True)],  # a memory bomb inside a call
    "q5": [("assert die() == 0", True)],  # os._exit inside a call
    "q6": [("y = weird()", True)],  # a non-data return
    "q7": [  # in-place mutation and generator state are seen by the test
        (
            "import torch\nx = torch.ones(3)\nscale_(x)\n"
            "assert torch.equal(x, torch.full((3,), 2.0))",
            True,
        ),
        (
            "import torch\n"
            "g, r = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)\n"
            "_ = draw(g)\n_ = torch.rand(4, generator=r)\n"
            "assert torch.equal(torch.rand(2, generator=g), torch.rand(2, generator=r))",
            True,
        ),
    ],
    "q8": [  # a grader-owned model and optimizer, trained by the student's step
        (
            "import torch\nm = torch.nn.Linear(2, 1)\n"
            "opt = torch.optim.SGD(m.parameters(), lr=0.1)\n"
            "w0 = m.weight.detach().clone()\nloss = train_step(m, opt, torch.ones(4, 2))\n"
            "assert isinstance(loss, float) and not torch.equal(m.weight.detach(), w0)",
            True,
        )
    ],
    "q9": [("assert secret() == 'no access'", True)],  # reading the tests: refused, and flagged
}
POINTS = {q: 2.0 for q in TESTS}
REFERENCE = (
    "def add_one(x):\n    return x + 1\n\n\ndef twice_add_one(x):\n    return 2 * add_one(x)\n"
)
REFERENCE_NAMES = {"q1": ["add_one"], "q2": ["twice_add_one"]}

MIXED = [
    "import os, sys, time, torch\nprint('x' * 50_000_000)",  # an output flood
    "while True:\n    pass",  # a cell that hangs
    "def add_one(x):\n    return x + 2  # the bug\n\n\n"
    "def twice_add_one(x):\n    return 2 * add_one(x)",
    "def spin(x):\n    while True:\n        pass",
    "def bomb():\n    return torch.ones(2**28, dtype=torch.float64)  # 2 GB",
    "def die():\n    os._exit(3)",
    "def weird():\n    return lambda: 1",
    "def scale_(x):\n    x.mul_(2)\n\n\ndef draw(g):\n    return torch.rand(4, generator=g)",
    "def train_step(model, opt, x):\n"
    "    loss = (model(x) ** 2).mean()\n"
    "    opt.zero_grad()\n    loss.backward()\n    opt.step()\n    return loss.item()",
    "def secret():\n"
    "    try:\n"
    "        return open(os.environ['SRC'] + '/tests/q1.py').read()\n"
    "    except OSError:\n"
    "        return 'no access'",
    "import subprocess\n"  # a process that tries to rewrite the results later (one that
    # detaches itself flags the submission: test_tamper_flags)
    "subprocess.Popen([sys.executable, '-c', 'import time, sys; time.sleep(6); "
    'open(sys.argv[1], "w").write("{}")\', os.environ[\'RESULTS\']])',
    "import ctypes\n"  # 12 processes that would sleep for ten minutes, renamed to be found
    "for _ in range(12):\n"
    "    if os.fork() == 0:\n"
    "        ctypes.CDLL(None).prctl(15, b'dcgsleeper', 0, 0, 0)\n"
    "        time.sleep(600)\n"
    "        os._exit(0)",
    "os._exit(1)",  # kills the worker mid-notebook: it is restarted
    "z = 1",
    "import resource\n"  # every file descriptor taken: later calls still need a channel
    "_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
    "resource.setrlimit(resource.RLIMIT_NOFILE, (200, hard))\n"
    "hoard = []\n"
    "try:\n"
    "    while True:\n"
    "        hoard.append(open('/dev/null'))\n"
    "except OSError as e:\n"
    "    assert e.errno == 24, e  # EMFILE: the table is full",
]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    src = make_source(root, TESTS, POINTS, REFERENCE, REFERENCE_NAMES, LIMITS)
    results_path = root / "results" / "results.json"
    cells = [
        c.replace("os.environ['SRC']", repr(str(src))).replace(
            "os.environ['RESULTS']", repr(str(results_path))
        )
        for c in MIXED
    ]
    sub = root / "hw.ipynb"
    sub.write_text(json.dumps(notebook(*cells)))
    t = time.monotonic()
    data = grade(src, sub, root / "results", "--executed-notebook", str(root / "executed.ipynb"))
    data["_seconds"] = time.monotonic() - t
    data["_root"] = root
    return data


def scores(data) -> dict:
    return {q: t["score"] for q, t in data["_questions"].items()}


def test_results_are_written_and_every_question_is_graded(mixed):
    assert mixed["_rc"] == 0, mixed["_stderr"]
    assert set(mixed["_questions"]) == set(TESTS)
    assert scores(mixed) == {
        "q1": 0,
        "q2": 2.0,  # the reference add_one was injected
        "q3": 0,
        "q4": 0,
        "q5": 0,
        "q6": 0,
        "q7": 2.0,
        "q8": 2.0,
        "q9": 0,  # flagged for review
    }
    print(f"mixed notebook graded in {mixed['_seconds']:.1f} s")


def test_a_hang_in_a_call_costs_only_its_question(mixed):
    out = mixed["_questions"]["q3"]["output"]
    assert "your spin did not return within 8 s (the per-call time limit)" in out
    assert "test 2 (hidden) failed: not run" in out  # the question stops at the first hang


def test_hangs_crashes_and_floods_in_cells_are_reported(mixed):
    summary = mixed["tests"][0]["output"]
    assert "cell 2: stopped after 8 s (the per-cell time limit)" in summary
    assert "cell 13: stopped: the worker ended" in summary  # os._exit in a cell
    executed = json.loads((mixed["_root"] / "executed.ipynb").read_text())
    assert "per-cell time limit" in executed["cells"][1]["outputs"][0]["text"]


def test_calls_work_after_the_notebook_takes_every_file_descriptor(mixed):
    # the last cell filled the worker's descriptor table (and raised nothing): every
    # question graded after it still got its channels (q2, q7, q8 score in the test above)
    executed = json.loads((mixed["_root"] / "executed.ipynb").read_text())
    assert executed["cells"][-1]["outputs"] == []
    assert scores(mixed)["q2"] == 2.0


def test_memory_bomb_and_death_in_a_call(mixed):
    q4, q5 = mixed["_questions"]["q4"]["output"], mixed["_questions"]["q5"]["output"]
    assert any(s in q4 for s in ("MemoryError", "allocate memory", "more than 900 MB")), q4
    assert "die ended without an answer" in q5


def test_non_data_return_is_flagged_for_review(mixed):
    out = mixed["_questions"]["q6"]["output"]
    assert out.startswith("flagged for review: weird returned a non-data object")
    staff = mixed["extra_data"]["diffcourse_grading"]
    assert "q6" in staff["flags"]


def test_reaching_for_the_tests_is_refused_and_flagged(mixed):
    out = mixed["_questions"]["q9"]["output"]
    assert out.startswith("flagged for review: secret tried to reach the grader's files (open ")
    assert "/tests/q1.py" in out


def test_hidden_tests_are_never_shown(mixed):
    text = json.dumps(mixed["_questions"])
    assert "assert twice_add_one(0)" not in text and "assert spin(1)" not in text
    assert "twice_add_one(3) == 8" not in text  # passed public lines are not echoed either


def test_the_worker_is_sandboxed_and_nothing_outlives_grading(mixed):
    sandbox = mixed["extra_data"]["diffcourse_grading"]["sandbox"]
    if os.geteuid() == 0:
        assert sandbox["user"].startswith("uid ") and "not dropped" not in sandbox["user"]
    # the OOM killer takes the worker first, never the grader that writes results.json
    assert sandbox["oom_score_adj"] == "1000"
    results = mixed["_root"] / "results" / "results.json"
    before = results.read_text()
    time.sleep(8)  # the detached writer would have fired by now
    assert results.read_text() == before
    survivors = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "dcgsleeper":
                    survivors.append(pid)
        except OSError:
            pass
    assert survivors == []  # the sleepers forked by the notebook were all killed


def test_total_time_stays_bounded(mixed):
    # two 8 s hangs, one restart, torch imported three times: far below the total limit
    assert mixed["_seconds"] < 300


# -- submissions that are not notebooks ---------------------------------------------------


@pytest.fixture(scope="module")
def small_source(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    return make_source(root, {"q1": [("assert f() == 1", False)]}, {"q1": 3.0}, limits=LIMITS)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.ipynb", b"", "is empty"),
        ("garbage.ipynb", b"\x00\x01 not json", "not a Jupyter notebook"),
        ("list.ipynb", b"[1, 2]", "not a Jupyter notebook"),
        ("nocode.ipynb", json.dumps(notebook()).encode(), "has no code"),
    ],
)
def test_unreadable_submissions_still_get_results(small_source, tmp_path, name, content, message):
    sub = tmp_path / name
    sub.write_bytes(content)
    data = grade(small_source, sub, tmp_path / "out")
    assert data["_rc"] == 0
    assert data["_questions"]["q1"]["score"] == 0 and data["_questions"]["q1"]["max_score"] == 3
    assert message in data["_questions"]["q1"]["output"] and message in data["output"]


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "utf-8-sig"])
def test_notebooks_in_other_encodings_are_read(tmp_path, encoding):
    nb = json.dumps(notebook("def f():\n    return 1  # café"), ensure_ascii=False)
    sub = tmp_path / "hw.ipynb"
    sub.write_bytes(nb.encode(encoding))
    cells, name = read_submission(sub, "hw")
    assert cells == ["def f():\n    return 1  # café"] and name == "hw.ipynb"


def test_an_otter_export_zip_in_a_folder_is_unpacked(small_source, tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    with zipfile.ZipFile(folder / "hw_2027_01_01.zip", "w") as zf:
        zf.writestr("hw.ipynb", json.dumps(notebook("def f():\n    return 1")))
        zf.writestr("__MACOSX/._hw.ipynb", "junk")
    data = grade(small_source, folder, tmp_path / "out")
    assert data["_questions"]["q1"]["score"] == 3.0


def test_a_broken_grader_still_writes_results(tmp_path):
    src = make_source(tmp_path, {"q1": [("assert True", False)]}, {"q1": 1.0})
    (src / "grading_config.json").write_text("{not json")
    sub = tmp_path / "hw.ipynb"
    sub.write_text(json.dumps(notebook("x = 1")))
    data = grade(src, sub, tmp_path / "out")
    assert data["_rc"] == 1
    assert data["_questions"]["q1"]["score"] == 0
    assert "autograder itself failed" in data["_questions"]["q1"]["output"]
    assert "grader_error" in data["extra_data"]["diffcourse_grading"]
