"""Grading on a GPU: the figures of issue 12 that need one (skips cleanly without CUDA).

    python bench/gpu_grading.py --dist build/gpu-check/dist [--workers 1,2,4,8] [--class-size 300]

Run by bench/gpu_check.sh on the GPU machine (no container engine there: the grading
runner runs bare, through autograder/container/grade_one.py, as in a Kubernetes pod).
For each problem set, the reference solution notebook of DIST/<id>/solutions/ is graded
with the cpu profile on the CPU and with the scale profile on CUDA (the scale checks of
assignments/<id>/staff/scale_checks.yml added, as grade-all adds them); then ps3 (the
set whose checks use the pretrained model) is graded by 1, 2, 4, 8 concurrent workers
sharing the one GPU, which gives the throughput and the time of a class.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
GRADE_ONE = REPO / "autograder" / "container" / "grade_one.py"
SETS = ("ps1", "ps2", "ps3")


def source_for(dist: Path, aid: str, profile: str, dest: Path) -> Path:
    from diffcourse_staff.grading_batch import scale_checks
    from diffcourse_staff.grading_batch.batch import unpack_autograder
    from diffcourse_staff.release.layout import Layout

    source = unpack_autograder(Layout.beside(dist).set_by_id(aid).autograder_zip, dest)
    scale_checks.add_to_source(source, scale_checks.staff_folder(aid, REPO), profile)
    return source


def solutions_notebook(dist: Path, aid: str) -> Path:
    from diffcourse_staff.release.layout import Layout

    paths = Layout.beside(dist).set_by_id(aid)
    return paths.solutions_dir / paths.notebook_name


def grade(source: Path, notebook: Path, out: Path, profile: str, device: str) -> dict:
    """One grading through grade_one.py; its run.json plus the score."""
    env = dict(os.environ, DIFFCOURSE_GRADING_DEVICE=device, OMP_NUM_THREADS="1")
    cmd = [sys.executable, str(GRADE_ONE), "--source", str(source), "--submission", str(notebook)]
    cmd += ["--out", str(out), "--profile", profile]
    start = time.monotonic()
    subprocess.run(cmd, env=env, check=True, timeout=900)
    run = json.loads((out / "run.json").read_text())
    results = json.loads((out / "results.json").read_text())
    graded = [t for t in results["tests"] if t.get("max_score")]
    run["score"] = sum(t["score"] for t in graded)
    run["max_score"] = sum(t["max_score"] for t in graded)
    run["failed"] = [t["name"] for t in graded if t["score"] < t["max_score"]]
    reports = [t for t in results["tests"] if t.get("name", "").startswith("Grading report")]
    staff = reports[0] if reports else {}
    try:  # the worker's peak (grade_one's cgroup figure is the host's outside a container)
        run["worker_peak_mb"] = json.loads(staff.get("output", "{}")).get("peak_worker_rss_mb")
    except ValueError:
        run["worker_peak_mb"] = None
    run["outer_wall_s"] = time.monotonic() - start
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=REPO / "build" / "gpu-check" / "dist")
    parser.add_argument("--workers", default="1,2,4,8", help="concurrent workers on one GPU")
    parser.add_argument("--class-size", type=int, default=300)
    parser.add_argument("--sets", default=",".join(SETS), help="problem sets to grade")
    parser.add_argument("--throughput-set", default="ps3")
    parser.add_argument(
        "--device", default="cuda", help="cpu: the same run without a GPU, to test this script"
    )
    args = parser.parse_args()
    args.dist = args.dist.resolve()  # the runner works in a scratch folder of its own
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_grading: skipped (no CUDA device)")
        return 0
    if args.device == "cuda":
        name, cuda = torch.cuda.get_device_name(0), torch.version.cuda
        print(f"GPU {name}, torch {torch.__version__}, CUDA {cuda}")
    work = Path(tempfile.mkdtemp(prefix="gpu-grading-"))
    os.chmod(work, 0o755)  # the runner's worker (nobody) reads the support files under it
    try:
        print("\nset   profile device  score       wall s  worker peak MiB  failed")
        for aid in args.sets.split(","):
            notebook = solutions_notebook(args.dist, aid)
            for profile, device in (("cpu", "cpu"), ("scale", args.device)):
                source = source_for(args.dist, aid, profile, work / f"{aid}-{profile}" / "source")
                out = work / f"{aid}-{profile}" / "out"
                r = grade(source, notebook, out, profile, device)
                print(
                    f"{aid:5} {profile:7} {device:6} {r['score']:5g}/{r['max_score']:<5g} "
                    f"{r['wall_s']:8.1f}  {r['worker_peak_mb'] or float('nan'):15.0f}  "
                    f"{','.join(r['failed']) or '-'}",
                    flush=True,
                )
        aid = args.throughput_set
        print(f"\n{aid}, scale profile on {args.device}, W workers at once (W submissions):")
        print("W  wall s  submissions/min  class of", args.class_size, "(min)")
        source = source_for(args.dist, aid, "scale", work / "throughput" / "source")
        notebook = solutions_notebook(args.dist, aid)
        for w in [int(x) for x in args.workers.split(",")]:
            outs = [work / "throughput" / f"w{w}-{i}" for i in range(w)]
            start = time.monotonic()
            with ThreadPoolExecutor(max_workers=w) as pool:
                runs = list(
                    pool.map(lambda o: grade(source, notebook, o, "scale", args.device), outs)
                )
            wall = time.monotonic() - start
            rate = len(runs) / wall * 60
            failed = [r["failed"] for r in runs if r["failed"]]
            note = f"  NOT all full marks: {failed}" if failed else ""
            minutes = args.class_size / rate
            print(f"{w:<2} {wall:6.1f}  {rate:15.2f}  {minutes:8.1f}{note}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
