"""Measure q1b's sampling-quality check per grading profile, to choose its thresholds.

    .venv/bin/python assignments/ps3/staff/scale_profile.py [--seeds 8] [--bug-seeds 2]

Runs the hidden quality cell of q1b exactly as ps3.py has it (with its profiles' batch
sizes but no thresholds), with the reference
cfg_prediction over several noise seeds and with every bug of
tests/assignments/ps3_variants/scale_bugs.py, under both profiles, and prints the
judge accuracy and the within-digit spread of each run, then whether each bug
passes the current thresholds of each profile. Slow on a CPU at the scale batch
(about 30 s a run on one busy core); seconds on a GPU.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import re
import statistics
import sys
import time
from pathlib import Path

import torch

from diffcourse_staff.release.authoring import notebook_from_text

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SOURCE = HERE.parent / "ps3.py"
# The profiles live in q1b's quality cell: `_profile = {"cpu": {...}, "scale": {...}}[...]`.
PROFILES = re.compile(r"^_profile = (\{.*?\})\[", re.MULTILINE | re.DOTALL)


def catalog() -> dict[str, str]:
    path = REPO / "tests" / "assignments" / "ps3_variants" / "scale_bugs.py"
    spec = importlib.util.spec_from_file_location("scale_bugs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SCALE_BUGS


def cells() -> tuple[str, str]:
    """(q1b's solution cell, its quality cell), as ps3.py has them."""
    nb = notebook_from_text(SOURCE.read_text(encoding="utf-8"))
    codes = [c.source for c in nb.cells if c.cell_type == "code"]
    solution = next(c for c in codes if "def cfg_prediction" in c and "BEGIN SOLUTION" in c)
    quality = next(c for c in codes if "_spread = " in c and "cfg_prediction(" in c)
    return solution, quality


def profiles_in(quality: str) -> dict:
    match = PROFILES.search(quality)
    if match is None:
        raise SystemExit(f"{SOURCE}: q1b's quality cell no longer sets `_profile = {{...}}[...]`")
    return ast.literal_eval(match.group(1))


def with_profiles(quality: str, profiles: dict) -> str:
    match = PROFILES.search(quality)
    return quality[: match.start(1)] + repr(profiles) + quality[match.end(1) :]


def run(solution: str, quality: str, variant: str | None, profile: str, seed: int) -> tuple:
    import os

    ns: dict = {"__name__": "__main__", "torch": torch}
    exec(solution, ns)
    if variant:
        exec(variant, ns)
    os.environ["GRADING_PROFILE"] = profile
    exec(quality.replace("manual_seed(2024)", f"manual_seed({seed})"), ns)
    return ns["_acc"], ns["_spread"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8, help="noise seeds of the reference")
    parser.add_argument("--bug-seeds", type=int, default=2, help="noise seeds per bug")
    args = parser.parse_args()
    torch.set_num_threads(1)
    solution, quality = cells()
    chosen = profiles_in(quality)
    measure = {p: {"batch": chosen[p]["batch"], "min_accuracy": 0.0} for p in chosen}
    quality = with_profiles(quality, measure)
    variants = {"reference": None} | catalog()
    seeds = {"reference": [2024, *range(args.seeds - 1)]}
    print("variant                profile  n     seeds  accuracy(min)  spread mean (sd) [min, max]")
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for name, source in variants.items():
        for profile in ("cpu", "scale"):
            runs = []
            for seed in seeds.get(name, [2024, *range(args.bug_seeds - 1)]):
                start = time.monotonic()
                runs.append(run(solution, quality, source, profile, seed))
                took = time.monotonic() - start
            figures[(name, profile)] = runs
            accs, spreads = [a for a, _ in runs], [s for _, s in runs]
            sd = statistics.stdev(spreads) if len(spreads) > 1 else 0.0
            print(
                f"{name:22} {profile:7} {chosen[profile]['batch']:5} {len(runs):5}  "
                f"{min(accs):12.3f}  {statistics.mean(spreads):.4f} ({sd:.4f}) "
                f"[{min(spreads):.4f}, {max(spreads):.4f}]  ({took:.0f} s a run)",
                flush=True,
            )
    print("\nwith the thresholds of ps3.py (pass = the check accepts it):")
    for name in variants:
        verdicts = []
        for profile in ("cpu", "scale"):
            p = chosen[profile]
            low, high = p.get("spread", (0.0, float("inf")))
            ok = all(
                a >= p["min_accuracy"] and low <= s <= high for a, s in figures[(name, profile)]
            )
            verdicts.append(f"{profile}: {'passes' if ok else 'FAILS'}")
        print(f"  {name:22} " + ", ".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
