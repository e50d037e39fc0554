"""Measure what q3a's sampling-check profiles are chosen from (staff only, never shipped).

Eight Heun steps of the exact velocity of ps4's 2D mixture, from fixed seeds: the share of
samples in each mode (its largest deviation from 1/3) and the spread within a mode (mean
per-coordinate standard deviation around the mode's centre; 0.25 for the data, about 0.261
after 8 Heun steps), for the reference step (diffcourse.flow.flow_sample) and for the subtle
integrator bugs of tests/assignments/ps4_variants/scale_bugs.py, at the cpu profile's batch
(512) and the scale profile's (65536).

    .venv/bin/python assignments/ps4/staff/scale_profile.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from diffcourse.data import gaussian_mixture_2d
from diffcourse.flow import flow_sample, gmm_velocity

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "assignments"))
from ps4_variants.scale_bugs import SCALE_BUGS  # noqa: E402

MIXTURE = gaussian_mixture_2d([[-2.0, 1.5], [2.0, 1.5], [0.0, -2.0]], 0.25)


def exact(x, t):
    return gmm_velocity(x, t, MIXTURE)


def measure(x):
    mode = torch.cdist(x, MIXTURE.means).argmin(1)
    error = max(abs((mode == j).double().mean().item() - 1 / 3) for j in range(3))
    spread = sum((x[mode == j] - MIXTURE.means[j]).std(0).mean().item() for j in range(3)) / 3
    return error, spread


def samplers():
    yield "reference", lambda z: flow_sample(exact, z, 8, "heun")
    for name, source in SCALE_BUGS.items():
        ns = {"torch": torch}
        exec(source, ns)

        def run(z, step=ns["flow_step"]):
            for k in range(8):
                z = step(exact, z, 1 - k / 8, 1 - (k + 1) / 8, method="heun")
            return z

        yield name, run


def main() -> None:
    torch.set_num_threads(1)
    for batch, seeds in ((512, 20), (65536, 4)):
        for name, run in samplers():
            rows = []
            for seed in range(seeds):
                g = torch.Generator().manual_seed(seed)
                rows.append(measure(run(torch.randn(batch, 2, generator=g, dtype=torch.float64))))
            err = max(r[0] for r in rows)
            lo, hi = min(r[1] for r in rows), max(r[1] for r in rows)
            print(
                f"batch {batch:6d} {name:30s} mode error <= {err:.4f}  spread [{lo:.4f}, {hi:.4f}]"
            )


if __name__ == "__main__":
    main()
