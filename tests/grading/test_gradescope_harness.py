"""The Gradescope harness itself, with tiny fake autograder zips (a few seconds each):
the layout, the mamba stand-in, the late re-read, and each limit of the box."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gradescope_harness as harness  # noqa: E402

pytestmark = pytest.mark.skipif(bool(harness.box_unavailable()), reason=harness.box_unavailable())

FULL = {"tests": [{"name": "q1", "score": 1, "max_score": 1}]}


def fake_zip(tmp_path: Path, run_autograder: str) -> Path:
    path = tmp_path / "autograder.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("run_autograder")
        info.external_attr = 0o755 << 16
        zf.writestr(info, "#!/bin/bash\n" + run_autograder)
        zf.writestr("tests/q1.py", "test = {}\n")
    return path


def submission(tmp_path: Path) -> Path:
    path = tmp_path / "ps.ipynb"
    path.write_text('{"cells": []}')
    return path


def test_layout_and_mamba_stand_in(tmp_path):
    """run_autograder sees Gradescope's folders, the metadata, the submission, a private
    /root, and `mamba activate` puts the staff venv's python first on PATH."""
    script = """
export PATH=/root/miniforge3/bin:$PATH
eval "$(mamba shell hook --shell bash)"
mamba activate otter-env
python - <<'EOF'
import json, os, sys
meta = json.load(open("/autograder/submission_metadata.json"))
print(json.dumps({"tests": [{"name": "q1", "score": 1, "max_score": 1}], "python": sys.executable,
                  "submission": sorted(os.listdir("/autograder/submission")),
                  "tests_dir": sorted(os.listdir("/autograder/source/tests")),
                  "root_mode": oct(os.stat("/root").st_mode & 0o777), "meta": "users" in meta,
                  "pid": os.getpid(), "uid": os.getuid()}),
      file=open("/autograder/results/results.json", "w"))
EOF
"""
    run = harness.grade_gradescope(fake_zip(tmp_path, script), submission(tmp_path))
    assert run.returncode == 0, run.log
    got = run.results
    assert got is not None, run.problem
    assert Path(got["python"]).parent == Path(sys.executable).parent
    assert got["submission"] == ["ps.ipynb"] and got["tests_dir"] == ["q1.py"]
    assert got["root_mode"] == "0o700" and got["meta"] and got["uid"] == 0
    assert got["pid"] < 100, "run_autograder should run in its own PID namespace"


def test_results_are_read_again_after_the_run(tmp_path):
    """A process left behind that rewrites results.json is seen in the late reading."""
    honest = json.dumps({"tests": [{"name": "q1", "score": 0, "max_score": 1}]})
    script = f"""
echo '{honest}' > /autograder/results/results.json
echo '{json.dumps(FULL)}' > /tmp/forged.json
setsid bash -c "sleep 1; cp /tmp/forged.json /autograder/results/results.json; sleep 600" &
"""
    run = harness.grade_gradescope(fake_zip(tmp_path, script), submission(tmp_path))
    assert run.results["tests"][0]["score"] == 0
    assert run.results_late["tests"][0]["score"] == 1


def test_memory_limit(tmp_path):
    script = "python3 -c 'x = bytearray(900 * 2**20); x[::4096] = b\"1\" * len(x[::4096])'\n"
    script += f"echo '{json.dumps(FULL)}' > /autograder/results/results.json\n"
    run = harness.grade_gradescope(fake_zip(tmp_path, script), submission(tmp_path))
    assert run.extra["oom_kills"] >= 1, run.log
    assert run.results is not None  # the script went on after its child was killed


def test_wall_clock_limit_gives_no_results(tmp_path):
    script = f"echo '{json.dumps(FULL)}' > /autograder/results/results.json\nsleep 60\n"
    limits = harness.Limits(wall_s=3, settle_s=0.5)
    run = harness.grade_gradescope(fake_zip(tmp_path, script), submission(tmp_path), limits)
    assert run.timed_out and run.results is None and "wall-clock" in run.problem
    assert run.wall_s < 10


def test_disk_and_process_limits(tmp_path):
    script = """
python3 - <<'EOF'
import json, os
wrote = 0
try:
    with open("/tmp/fill", "wb") as f:
        while True:
            f.write(b"0" * 2**20); f.flush(); wrote += 1
except OSError:
    pass
os.remove("/tmp/fill")
forked = 0
try:
    while forked < 5000:
        if os.fork() == 0:
            import time; time.sleep(30); os._exit(0)
        forked += 1
except OSError:
    pass
json.dump({"tests": [], "wrote_mb": wrote, "forked": forked},
          open("/autograder/results/results.json", "w"))
EOF
"""
    limits = harness.Limits(disk_mb=64, pids=64, settle_s=0.5)
    run = harness.grade_gradescope(fake_zip(tmp_path, script), submission(tmp_path), limits)
    assert run.results is not None, run.log
    assert run.results["wrote_mb"] < 64 and run.results["forked"] < 64


def test_this_machine_is_read_only_inside(tmp_path):
    target = Path(__file__).resolve().parent / "harness-write-probe"
    script = f"touch {target} 2>/dev/null && echo wrote || echo refused\n"
    script += "echo '{\"tests\": []}' > /autograder/results/results.json\n"
    run = harness.grade_gradescope(fake_zip(tmp_path, script), submission(tmp_path))
    assert not target.exists() and "refused" in run.log
