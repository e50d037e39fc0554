"""Benchmark: training speed of the digits model recipe on CPU threads.

    .venv/bin/python bench/train_digits.py                 # 500 steps, 2 threads, the ImageMLP
    .venv/bin/python bench/train_digits.py --model unet --steps 200

Prints seconds per step and the time the full recipe (8000 steps, batch 256 for the
MLP, 128 for the U-Net) would take at that speed. Timings on a shared machine are
upper bounds; compare figures only from the same machine and load.
"""

import argparse
import time

import torch

from diffcourse.data import load_digits
from diffcourse.models import DigitsUNet, ImageMLP, count_parameters
from diffcourse.schedules import make_schedule
from diffcourse.trainer import Trainer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=["mlp", "unet"], default="mlp")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--full-steps", type=int, default=8000)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    images, labels = load_digits("train")
    torch.manual_seed(0)
    if args.model == "mlp":
        model, batch = ImageMLP((1, 8, 8), width=256, num_blocks=4, num_classes=10), 256
    else:
        model, batch = DigitsUNet(1, channels=(32, 64), num_classes=10), 128
    trainer = Trainer(
        model,
        images,
        make_schedule("cosine"),
        labels,
        steps=args.steps,
        batch_size=batch,
        warmup_steps=min(200, args.steps),
        progress=False,
        device="cpu",
    )
    trainer.train(10)  # warm-up (allocations, first-call overheads), not timed
    t0, c0 = time.perf_counter(), time.process_time()
    trainer.train()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    timed = args.steps - 10
    print(f"model: {type(model).__name__}, {count_parameters(model):,} parameters, batch {batch}")
    print(f"threads: {args.threads}; timed steps: {timed}")
    print(f"wall: {wall:.2f} s ({1000 * wall / timed:.1f} ms/step); process CPU: {cpu:.2f} s")
    print(
        f"full recipe ({args.full_steps} steps) at this speed: "
        f"{wall / timed * args.full_steps:.0f} s"
    )


if __name__ == "__main__":
    main()
