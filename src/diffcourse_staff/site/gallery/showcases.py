"""The home page's animations: particles, visual anagrams, an interpolation."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from diffcourse_staff.site.gallery.common import anagrams, digits_sample, mixture_predict
from diffcourse_staff.site.gallery.style import gen


def showcase_sampling(path: Path) -> None:
    """1000 particles from N(0, I) carried by DDPM (exact score) onto eight Gaussians."""
    from diffcourse.animate import trajectory_to_gif
    from diffcourse.data import eight_gaussians
    from diffcourse.samplers import ddpm_sample
    from diffcourse.schedules import make_schedule

    mixture = eight_gaussians()
    abar = make_schedule("cosine")
    _, traj = ddpm_sample(
        None,
        (1000, 2),
        abar,
        gen(0),
        predict=mixture_predict(mixture, abar),
        dtype=torch.float64,
        return_trajectory=True,
    )  # (T + 1, 2000, 2)
    # Spend more frames where the picture changes (late, low-noise steps).
    T = traj.shape[0] - 1
    idx = sorted({round(T * (1 - (1 - k / 59) ** 0.5)) for k in range(60)})
    trajectory_to_gif(traj[idx], path, kind="particles", fps=12, lim=3.0, hold_last=1.5)


def _rotate(images: torch.Tensor, degrees: float, size: int) -> torch.Tensor:
    """Images (B, 1, 8, 8) in [-1, 1] upscaled to size x size and turned by `degrees`."""
    from torch.nn import functional as F

    big = F.interpolate(images, size=(size, size), mode="nearest")  # (B, 1, size, size)
    a = math.radians(degrees)
    theta = torch.tensor([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]])
    theta = theta.to(big.dtype).expand(big.shape[0], 2, 3)
    grid = F.affine_grid(theta, list(big.shape), align_corners=False)
    # Pad with white (-1 is black ink-free background in the digits' scale).
    out = F.grid_sample(big + 1, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    return out - 1


def showcase_anagram(path: Path) -> None:
    """Four visual anagrams (upright a, upside down b) turning back and forth."""
    from diffcourse.animate import trajectory_to_gif
    from diffcourse.pretrained import load_digits_model

    model = load_digits_model()
    pairs = [(6, 9), (1, 7), (0, 3), (4, 2)]
    x = anagrams(model, pairs, candidates=16, seed=10)  # (4, 1, 8, 8)
    angles = [0.0] * 8 + [180.0 * k / 23 for k in range(24)] + [180.0] * 12
    angles += [180.0 - 180.0 * k / 23 for k in range(24)] + [0.0] * 4
    frames = torch.stack([_rotate(x, a, 64) for a in angles])  # (F, 4, 1, 64, 64)
    trajectory_to_gif(frames, path, kind="images", fps=16, nrow=2, upscale=2, max_frames=80)


def showcase_interpolation(path: Path) -> None:
    """Spherical interpolation between two noises, decoded by deterministic DDIM."""
    from diffcourse.animate import trajectory_to_gif
    from diffcourse.interpolation import slerp
    from diffcourse.pretrained import load_digits_model

    model = load_digits_model()
    labels = torch.tensor([2, 3, 5, 8])
    g = gen(20)
    z0 = torch.randn((4, 1, 8, 8), generator=g)
    z1 = torch.randn((4, 1, 8, 8), generator=g)
    alphas = [k / 23 for k in range(24)]
    frames = []
    for a in alphas:
        z = slerp(z0, z1, torch.full((4,), a))
        frames.append(digits_sample(model, labels, seed=0, x_T=z))
    frames = frames + frames[::-1]
    trajectory_to_gif(torch.stack(frames), path, kind="images", fps=10, nrow=2, upscale=16)
