"""Calibrate the scale checks: statistics of the reference and of each catalogued bug per profile.

    .venv/bin/python bench/scale_checks.py [--assignment ps1] [--seeds 10] [--bug-seeds 1]
        [--reference-n N]

For each check of assignments/<id>/staff/scale_checks.yml, runs its code (as grade-all adds
it, without the grader) with the reference sampler over several noise seeds and with every
bug of tests/assignments/<id>_variants/scale_bugs.py, at the cpu (Gradescope) and the scale
size, and prints the check's standardised errors (z: N(0, 1) for a correct sampler) and
whether the check passes. The reference is the course library's function (tested against
diffusers), not the bug catalog's own copy. `--reference-n` runs the reference's seeds at a
smaller n (the z statistics do not depend on n), to keep the calibration cheap on a CPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from diffcourse_staff.grading_batch import scale_checks  # noqa: E402

STATS = ("_z_mean", "_z_sd")


def catalog(assignment: str):
    path = REPO / "tests" / "assignments" / f"{assignment}_variants" / "scale_bugs.py"
    spec = importlib.util.spec_from_file_location("scale_bugs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference(function: str):
    import diffcourse.samplers

    return getattr(diffcourse.samplers, function)


def run(code: str, settings: dict, answer, seed: int) -> dict[str, float]:
    ns: dict = {"__name__": "__main__", "torch": torch}
    if isinstance(answer, str):
        exec(answer, ns)
    else:
        ns[answer.__name__] = answer
    ns["_P"] = settings | {"seed": seed, "z": float("inf")}  # measure, never stop
    exec(code, ns)
    return {k: ns[k] for k in STATS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="ps1")
    parser.add_argument("--seeds", type=int, default=10, help="noise seeds of the reference")
    parser.add_argument("--bug-seeds", type=int, default=1, help="noise seeds per bug")
    parser.add_argument("--reference-n", type=int, default=20000, help="n of the reference runs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    folder = scale_checks.staff_folder(args.assignment, REPO)
    bugs = catalog(args.assignment)
    for check in scale_checks.load(folder):
        code = check.source(folder)
        print(f"== {args.assignment} {check.name} ({check.question}, {check.points:g} points)")
        print("variant                  profile     n  seeds  max|z| mean    max|z| sd     pass")
        answers = {"reference (library)": reference(bugs.FUNCTION)} | bugs.SCALE_BUGS
        for name, answer in answers.items():
            for profile in scale_checks.PROFILES:
                settings = dict(check.settings(profile))
                limit = settings["z"]
                is_ref = not isinstance(answer, str)
                if is_ref and args.reference_n and profile == "scale":
                    settings["n"] = args.reference_n
                seeds = range(1000, 1000 + (args.seeds if is_ref else args.bug_seeds))
                start = time.monotonic()
                runs = [run(code, settings, answer, s) for s in seeds]
                took = (time.monotonic() - start) / len(runs)
                cols = []
                for key in STATS:
                    vals = [r[key] for r in runs]
                    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
                    cols.append(f"{statistics.mean(vals):6.2f} ({sd:4.2f}) <= {max(vals):5.2f}")
                ok = all(r[k] < limit for r in runs for k in STATS)
                print(
                    f"{name:24} {profile:7} {settings['n']:6} {len(runs):5}  "
                    f"{cols[0]}  {cols[1]}  {'passes' if ok else 'FAILS'}  ({took:.1f} s a run)",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
