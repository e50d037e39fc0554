"""Grading in containers: overhead against the bare process, throughput, peak memory.

    python bench/grading_container.py [--assignments ps1 ps2 ps3] [--copies 4]

For each assignment whose autograder zip is built (dist/<id>/<id>-autograder.zip,
`make assignment A=<id>`), grades the reference solution:
  - bare: grade_one.py in a plain subprocess (no sandbox, no container), once;
  - container: the same in a fresh podman container of the CPU grading image, once
    (ratio container / bare; target <= 1.2 for ps1);
  - throughput: `--copies` copies of the reference through grade_all with 2 workers
    (submissions per minute), and the peak memory per container from its cgroup.
Needs root, podman and the image (`make grading-image`). Prints the figures.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from diffcourse_staff.grading_batch.batch import BatchConfig, grade_all, unpack_autograder
from diffcourse_staff.grading_batch.engines import GRADE_ONE, ContainerEngine, Job, Limits
from diffcourse_staff.grading_batch.image import image_exists, image_tag
from diffcourse_staff.release.layout import Layout


def reference_notebook(aid: str) -> Path:
    """The reference solution as a submission: Otter's autograder copy of the notebook."""
    path = Layout().set_by_id(aid).otter_autograder_notebook
    if not path.is_file():
        sys.exit(f"{path}: missing; run `make assignment A={aid}` first")
    return path


def bare(zip_path: Path, source: Path, sub: Path, out: Path) -> float:
    cmd = [sys.executable, str(GRADE_ONE), "--source", str(source), "--submission", str(sub)]
    cmd += ["--out", str(out), "--zip", str(zip_path)]
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="+", default=["ps1", "ps2", "ps3"])
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()
    image = image_tag("cpu")
    if not shutil.which("podman") or not image_exists("podman", image):
        print(f"skipped: needs podman and the image {image} (make grading-image)")
        return 0
    limits = Limits(memory_mb=4096, timeout_s=1200)
    engine = ContainerEngine("podman", image, limits)
    for aid in args.assignments:
        zip_path = Layout().set_by_id(aid).autograder_zip
        if not zip_path.is_file():
            print(f"{aid}: skipped ({zip_path} not built)")
            continue
        sub = reference_notebook(aid)
        with tempfile.TemporaryDirectory(prefix=f"bench-{aid}-") as tmp:
            tmp = Path(tmp)
            source = unpack_autograder(zip_path, tmp / "source")
            t_bare = bare(zip_path, source, sub, tmp / "bare")
            job = Job(aid, source, zip_path, sub, tmp / "ctr" / "out")
            run = engine.run(job)
            report = json.loads((job.out / "run.json").read_text())
            ratio, peak = run.wall_s / t_bare, report["peak_memory_mb"]
            print(
                f"{aid}: one reference grading: bare {t_bare:.1f} s, container {run.wall_s:.1f} s "
                f"(ratio {ratio:.2f}), peak memory in the container {peak:.0f} MB"
            )
            subs = tmp / "subs"
            subs.mkdir()
            for i in range(args.copies):
                shutil.copy(sub, subs / f"copy{i}.ipynb")
            cfg = BatchConfig(zip_path, subs, tmp / "batch", workers=2, limits=limits)
            cfg.progress = False
            start = time.monotonic()
            grade_all(engine, cfg, log=lambda *_: None)
            wall = time.monotonic() - start
            peaks = [
                json.loads(p.read_text())["peak_memory_mb"] or 0
                for p in (tmp / "batch" / "submissions").glob("*/grading.json")
            ]
            print(
                f"{aid}: {args.copies} submissions, 2 workers: {wall:.0f} s, "
                f"{args.copies / wall * 60:.1f} submissions/min, peak memory per container "
                f"max {max(peaks):.0f} MB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
