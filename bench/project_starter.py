"""Benchmark: how long the custom-data starter's default budget takes on this machine.

    .venv/bin/python bench/project_starter.py            # 100 timed training steps, 1 thread
    .venv/bin/python bench/project_starter.py --full     # the whole `make reproduce`

Copies the starter, makes its example images, times a slice of training with the
starter's own settings (project.yml) and the evaluation in full, and prints the
projected time of the default `make reproduce` (steps x seconds per step, start-up
included, + the evaluation).
Both wall and CPU time are printed: on a shared, busy machine the CPU time of one
thread is the better estimate of an idle laptop core. --full runs everything instead
of projecting (ten minutes or more).
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from diffcourse_staff.projects.starter import copy_starter


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(folder: Path, *args: str) -> tuple[float, float]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    wall, cpu = time.perf_counter(), _cpu()
    subprocess.run([sys.executable, *args], cwd=folder, env=env, check=True, capture_output=True)
    return time.perf_counter() - wall, _cpu() - cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=100, help="training steps to time")
    p.add_argument("--full", action="store_true", help="run the whole default budget")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = copy_starter("custom-data", Path(tmp) / "starter")
        _run(folder, "make_example_data.py", "data", "600")
        settings = yaml.safe_load((folder / "project.yml").read_text())
        full_steps = settings["train"]["steps"]
        if args.full:
            wall, cpu = _run(folder, "project.py", "reproduce")
            minutes = f"{wall / 60:.1f} min wall, {cpu / 60:.1f} min CPU"
            print(f"make reproduce, {full_steps} steps: {minutes}")
            return
        settings["train"]["steps"] = args.steps
        (folder / "project.yml").write_text(yaml.safe_dump(settings))
        t_wall, t_cpu = _run(folder, "project.py", "train")
        e_wall, e_cpu = _run(folder, "project.py", "evaluate")
        for label, t, e in (("wall", t_wall, e_wall), ("CPU", t_cpu, e_cpu)):
            per_step = t / args.steps
            total = per_step * full_steps + e
            print(
                f"{label:>4}: {per_step:.3f} s/step, evaluate {e:.0f} s -> default budget"
                f" ({full_steps} steps) about {total / 60:.1f} min"
            )


if __name__ == "__main__":
    main()
