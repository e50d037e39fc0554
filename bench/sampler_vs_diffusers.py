"""Benchmark: our ddim_sample against diffusers' DDIMScheduler loop driving the same model.

    .venv/bin/python bench/sampler_vs_diffusers.py          # 1000 samples, DDIM-50, 2 threads

Both loops start from the same x_T, use the same alphas_cumprod (float32 data), the
"leading" spacing and no clipping, and call the model once per step with the same
labels; so the samples must agree (printed) and the timing difference is the
samplers' own overhead. Target: ours / diffusers <= 1.0.

The model is the course's pretrained digits network (``diffcourse.pretrained``) when
its checkpoint is present, else a random residual MLP of the same size on 64-dim
input.
"""

import argparse
import time

import torch
from diffusers import DDIMScheduler

from diffcourse.samplers import ddim_sample
from diffcourse.schedules import make_schedule


def load_model():
    try:
        from diffcourse.pretrained import load_digits_model

        model = load_digits_model()
        return model, model.alphas_cumprod, (1, 8, 8), "pretrained digits model"
    except Exception as err:  # no checkpoint: an untrained model of the same size
        from diffcourse.models import ImageMLP

        print(f"(pretrained model unavailable: {err}; using a random MLP)")
        model = ImageMLP(image_shape=(1, 8, 8), width=256, num_blocks=4, num_classes=10).eval()
        model.requires_grad_(False)
        return model, make_schedule("cosine"), (1, 8, 8), "random MLP"


def diffusers_loop(model, scheduler, x_T, labels):
    x = x_T
    with torch.no_grad():
        for t in scheduler.timesteps:
            eps = model(x, t.expand(x.shape[0]), labels=labels)
            x = scheduler.step(eps, t, x).prev_sample
    return x


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=9)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    model, abar, image_shape, name = load_model()
    labels = torch.arange(args.n) % 10
    shape = (args.n, *image_shape)
    x_T = torch.randn(shape, generator=torch.Generator().manual_seed(0))

    scheduler = DDIMScheduler(
        num_train_timesteps=abar.shape[0], timestep_spacing="leading", clip_sample=False
    )
    scheduler.alphas_cumprod = abar.float().clone()
    scheduler.final_alpha_cumprod = torch.tensor(1.0)
    scheduler.set_timesteps(args.steps)

    def ours():
        return ddim_sample(model, shape, abar, args.steps, None, labels=labels, x_T=x_T)

    def theirs():
        return diffusers_loop(model, scheduler, x_T, labels)

    diff = (ours() - theirs()).abs().max().item()  # also the warm-up
    print(f"{name}: {args.n} samples {tuple(shape[1:])}, DDIM-{args.steps}, "
          f"{args.threads} threads, {args.repeats} repeats")  # fmt: skip
    report("with the model", time_both(ours, theirs, args.repeats), target=True)

    # The same two loops around a model that costs nothing: what is left is each
    # sampler's own overhead per run, which the model's time above hides.
    free = FreeModel()
    report(
        "sampler overhead only",
        time_both(
            lambda: ddim_sample(free, shape, abar, args.steps, None, labels=labels, x_T=x_T),
            lambda: diffusers_loop(free, scheduler, x_T, labels),
            args.repeats,
        ),
    )
    print(f"  max |ours - diffusers| over the samples: {diff:.2e} (float32)")


class FreeModel(torch.nn.Module):
    """A stand-in network that answers at once (eps = 0.1 x), to time the loops alone."""

    def forward(self, x, t, labels=None):
        return 0.1 * x


def time_both(ours, theirs, repeats):
    """Wall times of each callable, interleaved so that a busy machine slows both alike."""
    times = {"ours": [], "diffusers": []}
    for i in range(repeats):
        pair = (("ours", ours), ("diffusers", theirs))
        for key, fn in pair if i % 2 == 0 else pair[::-1]:  # alternate who goes first
            t0 = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t0)
    return times


def report(what, times, target=False):
    best = {k: min(v) for k, v in times.items()}
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    print(f"  {what}:")
    for k in ("ours", "diffusers"):
        print(f"    {k:10s} best {best[k]:.4f} s   median {med[k]:.4f} s")
    goal = " (target <= 1.0)" if target else ""
    print(f"    ratio ours / diffusers: best {best['ours'] / best['diffusers']:.3f}, "
          f"median {med['ours'] / med['diffusers']:.3f}{goal}")  # fmt: skip


if __name__ == "__main__":
    main()
