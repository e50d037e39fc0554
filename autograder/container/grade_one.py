"""Grade one submission inside a grading container or the local sandbox (standard library only).

    python grade_one.py --source SRC --submission SUB --out DIR [--zip ZIP] [--profile NAME]

Runs the isolated grading runner that ships in the autograder zip
(`python -m diffcourse_grading.run`, imported from SRC so that the copy graded
here is the copy Gradescope runs). Where SRC has no runner yet (zips built
before it existed), it falls back to `otter run` with the zip's plugin, which
runs student code in Otter's own kernel: the caller then starts this script as
an unprivileged user. Writes DIR/results.json (the runner's or Otter's),
DIR/executed.ipynb when the runner writes one, DIR/grader-log.txt and
DIR/run.json (which runner, its exit status, peak memory and OOM kills of this
cgroup). A missing results.json is the caller's to replace: it knows why the
run ended (time limit, memory, engine error).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNNER_MODULE = "diffcourse_grading.run"
# cgroup v1 and v2 files that give the peak memory and the OOM kills of the group we run in
PEAK_FILES = ("/sys/fs/cgroup/memory/memory.max_usage_in_bytes", "/sys/fs/cgroup/memory.peak")
OOM_FILES = ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events")


def has_runner(source: Path) -> bool:
    return (source / "diffcourse_grading" / "run.py").is_file()


def cgroup_memory() -> dict:
    """Peak memory (MiB) and OOM kills of this process's memory cgroup, where readable."""
    found: dict = {"peak_memory_mb": None, "oom_kills": None}
    for path in PEAK_FILES:
        try:
            found["peak_memory_mb"] = int(Path(path).read_text().split()[0]) / 2**20
            break
        except (OSError, ValueError, IndexError):
            continue
    for path in OOM_FILES:
        try:
            for line in Path(path).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    found["oom_kills"] = int(value)
            break
        except (OSError, ValueError):
            continue
    return found


def find_notebook(submission: Path) -> Path:
    """The file Otter grades: the submission itself, or the one notebook/zip of a folder."""
    if submission.is_file():
        return submission
    for pattern in ("*.ipynb", "*.zip"):
        found = sorted(p for p in submission.rglob(pattern) if "__MACOSX" not in p.parts)
        if found:
            return found[0]
    return submission


def runner_command(args, source: Path, out: Path) -> list[str]:
    cmd = [sys.executable, "-m", RUNNER_MODULE, "--source", str(source)]
    cmd += ["--submission", str(args.submission), "--results", str(out / "results.json")]
    cmd += ["--executed-notebook", str(out / "executed.ipynb")]
    if args.profile:
        cmd += ["--profile", args.profile]
    return cmd


def otter_command(args, out: Path) -> list[str]:
    if not args.zip:
        raise SystemExit("grade_one: the autograder has no runner and no --zip was given")
    notebook = find_notebook(Path(args.submission))
    return [
        sys.executable,
        "-m",
        "otter",
        "run",
        "-a",
        str(args.zip),
        "-o",
        str(out),
        str(notebook),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, type=Path, help="the unpacked autograder zip")
    parser.add_argument("--submission", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path, help="folder for results and logs")
    parser.add_argument("--zip", type=Path, help="the autograder zip (for the otter fallback)")
    parser.add_argument("--profile", help="grading profile passed to the runner (cpu, scale)")
    args = parser.parse_args(argv)

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("HOME", tempfile.gettempdir())
    if args.profile:
        env["DIFFCOURSE_GRADING_PROFILE"] = args.profile
    with tempfile.TemporaryDirectory(prefix="grading-") as scratch:
        # the runner's worker (nobody) imports the runner package from the copy below; the
        # runner itself makes tests/ and reference/ unreadable to it before it starts
        os.chmod(scratch, 0o755)
        if has_runner(args.source):
            # a private copy: the runner may chmod its tests away from the student's uid,
            # which a read-only mount of the source would not allow
            source = Path(scratch) / "source"
            shutil.copytree(args.source, source)
            runner, cmd = RUNNER_MODULE, runner_command(args, source, out)
        else:
            source = args.source
            runner, cmd = (
                "otter run (fallback: the zip has no isolated runner)",
                otter_command(args, out),
            )
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
        start = time.monotonic()
        with open(out / "grader-log.txt", "wb") as log:
            status = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=scratch)
        wall = time.monotonic() - start
    report = {"runner": runner, "exit_code": status.returncode, "wall_s": round(wall, 3)}
    report |= cgroup_memory()
    (out / "run.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
