"""Grading cost of correct but slow answers: every correct alternative of the catalogs.

    .venv/bin/python bench/slow_answers.py [--quality]

For each problem set, runs all test cells of a question (as Otter runs them, through
tests/assignments/notebook_harness.py) with the reference and with every correct
alternative of the question's catalog (tests/assignments/ps*_variants/), on one thread,
and prints the CPU seconds of the slowest alternative per question next to the
reference's. The catalogs hold the slowest realistic answers on purpose (per-sample
Python loops instead of a vectorised step). Target: every question's tests finish in at
most 10 s of CPU with any correct answer, which is about 20 s on Gradescope's default
half CPU. `--quality` also runs ps3's checks on the pretrained model.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "assignments"))

import torch  # noqa: E402
from notebook_harness import parse, run_question  # noqa: E402

TARGET_CPU_S = 10.0


def alternatives(ps: str, questions) -> dict[str, dict[str, str]]:
    """question -> {name: source} of the correct alternatives in the set's catalog."""
    if ps == "ps3":
        return {q: importlib.import_module(f"ps3_variants.{q}").CORRECT for q in questions}
    catalog = importlib.import_module(f"{ps}_variants.correct").CORRECT
    if isinstance(catalog, dict):
        return catalog
    out: dict[str, dict[str, str]] = {}
    for question, name, source in catalog:
        out.setdefault(question, {})[name] = source
    return out


def cpu_seconds(nb, question: str, source: str | None, quality: bool) -> tuple[float, int]:
    start = time.process_time()
    results = run_question(nb, question, source, quality=quality)
    return time.process_time() - start, sum(err is not None for _, err in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", action="store_true", help="include ps3's pretrained checks")
    args = parser.parse_args()
    torch.set_num_threads(1)
    worst = 0.0
    for ps in ("ps1", "ps2", "ps3"):
        nb = parse(ps)
        for question, variants in alternatives(ps, nb.autograded).items():
            ref_s, _ = cpu_seconds(nb, question, None, args.quality)
            slowest, slowest_s, failing = "", 0.0, 0
            for name, source in variants.items():
                seconds, failed = cpu_seconds(nb, question, source, args.quality)
                failing += failed
                if seconds > slowest_s:
                    slowest, slowest_s = name, seconds
            worst = max(worst, slowest_s)
            flag = "" if slowest_s <= TARGET_CPU_S and not failing else "  <-- over target"
            print(
                f"{ps} {question:5s} reference {ref_s:6.2f} s  slowest correct {slowest_s:6.2f} s"
                f" ({slowest}){flag}"
            )
    print(f"worst question with a correct answer: {worst:.2f} s CPU (target {TARGET_CPU_S} s)")
    return 0 if worst <= TARGET_CPU_S else 1


if __name__ == "__main__":
    sys.exit(main())
