"""Benchmark: time to sample 1000 digits from the pretrained model with DDIM-50 on CPU threads.

    .venv/bin/python bench/sample_digits.py            # 2 threads, guidance w = 2 and unguided

Guided sampling makes one batched model call of 2 x 1000 rows per step (conditional and
unconditional halves); unguided sampling one call of 1000 rows. Also prints the judge's
accuracy of the guided samples, so a speed-up that breaks sampling shows.
"""

import argparse
import time

import torch

from diffcourse.judge import DigitsJudge
from diffcourse.pretrained import load_digits_model
from diffcourse.samplers import ddim_sample


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = load_digits_model()
    labels = torch.arange(10).repeat_interleave(args.n // 10)
    shape = (len(labels), 1, 8, 8)

    def run(guided: bool, seed: int):
        g = torch.Generator().manual_seed(seed)
        kw = dict(labels=labels, guidance_scale=2.0) if guided else {}
        return ddim_sample(
            model, shape, model.alphas_cumprod, args.steps, g, clip_sample=True, **kw
        )

    run(True, 0)  # warm-up
    for guided in (True, False):
        times = []
        for r in range(args.repeats):
            t0 = time.perf_counter()
            x = run(guided, r)
            times.append(time.perf_counter() - t0)
        name = "guided w=2" if guided else "unguided  "
        extra = f"; judge accuracy {DigitsJudge().accuracy(x, labels):.3f}" if guided else ""
        print(
            f"{name}: {len(labels)} samples, DDIM-{args.steps}, {args.threads} threads: "
            f"best {min(times):.3f} s, median {sorted(times)[len(times) // 2]:.3f} s{extra}"
        )


if __name__ == "__main__":
    main()
