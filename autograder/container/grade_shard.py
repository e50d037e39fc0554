"""Grade one shard of a class inside a Kubernetes Indexed Job pod (standard library only).

    python grade_shard.py --data /data --index $JOB_COMPLETION_INDEX --count N [--timeout S]

/data is the shared volume prepared by `python -m diffcourse_staff.grading_batch k8s-prepare`:
submissions.json (key and path of every submission), autograder/source/,
autograder.zip and the submissions. This pod grades every count-th submission
starting at `index`, each in a fresh grade_one.py process tree under a wall-clock
limit, into /data/shards/<index>/<key>/ (the grader's output plus run-result.json
with exit status, time-out and wall time). A submission already there is skipped,
so a restarted pod resumes. `k8s-merge` on a staff machine turns these into
results.json, scores.csv and the report with the same code as a local run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOBODY = 65534


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--index", type=int, default=int(os.environ.get("JOB_COMPLETION_INDEX", 0)))
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--profile", default=os.environ.get("DIFFCOURSE_GRADING_PROFILE", "cpu"))
    args = parser.parse_args(argv)

    data = args.data
    records = json.loads((data / "submissions.json").read_text(encoding="utf-8"))
    mine = [r for i, r in enumerate(records) if i % args.count == args.index]
    source = data / "autograder" / "source"
    has_runner = (source / "diffcourse_grading" / "run.py").is_file()
    print(f"shard {args.index}/{args.count}: {len(mine)} submissions", flush=True)
    for rec in mine:
        work = data / "shards" / str(args.index) / rec["key"]
        if (work / "run-result.json").is_file() or rec["path"] is None:
            continue
        if work.exists():
            shutil.rmtree(work)
        out = work / "out"
        out.mkdir(parents=True)
        out.chmod(0o755 if has_runner else 0o777)
        cmd = [sys.executable, str(HERE / "grade_one.py"), "--source", str(source)]
        cmd += ["--submission", str(data / rec["path"]), "--out", str(out)]
        cmd += ["--zip", str(data / "autograder.zip"), "--profile", args.profile]

        def drop() -> None:  # an old zip without the runner: Otter runs as nobody
            if not has_runner:
                os.setgid(NOBODY)
                os.setuid(NOBODY)

        start = time.monotonic()
        with open(work / "out-engine.log", "wb") as log:
            proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=drop
            )
            timed_out = False
            try:
                code = proc.wait(timeout=args.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                code = proc.wait()
        result = {"exit_code": code, "timed_out": timed_out, "wall_s": time.monotonic() - start}
        partial = work / ".run-result.partial"
        partial.write_text(json.dumps(result), encoding="utf-8")
        partial.replace(work / "run-result.json")
        print(f"{rec['key']}: exit {code}{' (timed out)' if timed_out else ''}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
