"""The site's figures and animations, made by the course library.

`python -m diffcourse_staff.site.figures` (`make figures`) writes every figure into
build/figures (git-ignored), deterministically (fixed seeds, no timestamps in the
files). A figure is remade only when its inputs change: its own function, the
library modules it uses (their source), the pretrained checkpoint when it uses
the model, and the shared style below. The hashes live in build/figures/.stamps.json.

    python -m diffcourse_staff.site.figures            # make what is missing or stale
    python -m diffcourse_staff.site.figures --force    # remake everything
    python -m diffcourse_staff.site.figures --list     # names and whether each is current
    python -m diffcourse_staff.site.figures l02-schedules showcase-sampling   # just these

Figures are referenced from the pages as figures/<name> (the site hooks serve
build/figures under that path).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import inspect
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from diffcourse_staff.site import FIGURES_DIR

STAMPS = ".stamps.json"


class FigureError(RuntimeError):
    """One or more figures could not be made (the message lists each and why)."""


@dataclass(frozen=True)
class Figure:
    name: str  # file name in build/figures, e.g. "l02-schedules.png"
    make: Callable[[Path], None]  # writes the file at the given path
    modules: tuple[str, ...]  # diffcourse modules whose source is an input
    uses_checkpoint: bool = False


# ----------------------------------------------------------------- shared style


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 9,
            "svg.hashsalt": "diffcourse",
        }
    )
    return plt


def _save(fig, path: Path) -> None:
    """PNG without metadata (no software version or date), so equal inputs give equal bytes."""
    fig.savefig(path, format="png", bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(fig)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _mixture_predict(mixture, alphas_cumprod):
    """Exact epsilon-prediction for Gaussian-mixture data: eps = -sqrt(1 - abar_t) score."""
    from diffcourse.forward import score_to_eps
    from diffcourse.scores import gmm_noised_score

    def predict(x_t, t):  # x_t (B, D), t (B,)
        abar_t = alphas_cumprod[t]  # (B,)
        score = gmm_noised_score(x_t, abar_t, mixture)  # (B, D)
        return score_to_eps(score, x_t, t, alphas_cumprod)

    return predict


def _digits_sample(model, labels, seed, num_steps=50, guidance_scale=2.0, x_T=None):
    from diffcourse.samplers import ddim_sample

    return ddim_sample(
        model,
        (labels.shape[0], 1, 8, 8),
        model.alphas_cumprod,
        num_steps,
        _gen(seed),
        labels=labels,
        guidance_scale=guidance_scale,
        clip_sample=True,
        x_T=x_T,
    )


# ----------------------------------------------------------------- showcases


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
        _gen(0),
        predict=_mixture_predict(mixture, abar),
        dtype=torch.float64,
        return_trajectory=True,
    )  # (T + 1, 2000, 2)
    # Spend more frames where the picture changes (late, low-noise steps).
    T = traj.shape[0] - 1
    idx = sorted({round(T * (1 - (1 - k / 59) ** 0.5)) for k in range(60)})
    trajectory_to_gif(traj[idx], path, kind="particles", fps=12, lim=3.0, hold_last=1.5)


def _anagrams(model, pairs, candidates: int, seed: int):
    """Digits that read as a upright and b after a half turn, picked by the judge."""
    from diffcourse.illusions import Identity, Rot180, multiview_prediction
    from diffcourse.judge import DigitsJudge
    from diffcourse.samplers import ddim_sample

    judge = DigitsJudge()
    views = [Identity(), Rot180()]
    chosen = []
    for k, (a, b) in enumerate(pairs):
        la = torch.full((candidates,), a)
        lb = torch.full((candidates,), b)

        def predict(x_t, t, la=la, lb=lb):
            return multiview_prediction(model, x_t, t, views, [la, lb], 2.0, model.null_label)

        x = ddim_sample(
            None,
            (candidates, 1, 8, 8),
            model.alphas_cumprod,
            50,
            _gen(seed + k),
            predict=predict,
            clip_sample=True,
        )  # (candidates, 1, 8, 8)
        up = judge.predict(x)
        down = judge.predict(torch.rot90(x, 2, dims=(-2, -1)))
        good = ((up == a) & (down == b)).nonzero().flatten()
        chosen.append(x[good[0]] if len(good) else x[0])
    return torch.stack(chosen)  # (len(pairs), 1, 8, 8)


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
    x = _anagrams(model, pairs, candidates=16, seed=10)  # (4, 1, 8, 8)
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
    g = _gen(20)
    z0 = torch.randn((4, 1, 8, 8), generator=g)
    z1 = torch.randn((4, 1, 8, 8), generator=g)
    alphas = [k / 23 for k in range(24)]
    frames = []
    for a in alphas:
        z = slerp(z0, z1, torch.full((4,), a))
        frames.append(_digits_sample(model, labels, seed=0, x_T=z))
    frames = frames + frames[::-1]
    trajectory_to_gif(torch.stack(frames), path, kind="images", fps=10, nrow=2, upscale=16)


# ----------------------------------------------------------------- lecture figures


def l01_noising_2d(path: Path) -> None:
    """Two data sets dissolving into the same Gaussian under the forward process."""
    from diffcourse.data import swiss_roll, two_moons
    from diffcourse.forward import q_sample
    from diffcourse.schedules import make_schedule

    plt = _pyplot()
    abar = make_schedule("cosine")
    steps = [0, 200, 400, 600, 999]
    fig, axes = plt.subplots(2, len(steps), figsize=(9, 3.8), sharex=True, sharey=True)
    for row, (name, x0) in enumerate(
        [("two moons", two_moons(1500, _gen(1))), ("swiss roll", swiss_roll(1500, _gen(2)))]
    ):
        x0 = x0.double()
        noise = torch.randn(x0.shape, generator=_gen(3 + row), dtype=torch.float64)
        for col, s in enumerate(steps):
            t = torch.full((x0.shape[0],), s, dtype=torch.long)
            xt = q_sample(x0, t, noise, abar)
            ax = axes[row, col]
            ax.scatter(xt[:, 0], xt[:, 1], s=1, alpha=0.5, color="C0" if row == 0 else "C1")
            ax.set_xlim(-3.5, 3.5)
            ax.set_ylim(-3.5, 3.5)
            ax.set_aspect("equal")
            if row == 0:
                ax.set_title(f"t = {s}  (abar = {abar[s].item():.3f})")
            if col == 0:
                ax.set_ylabel(name)
    fig.suptitle("Forward process q(x_t | x_0), cosine schedule, T = 1000")
    _save(fig, path)


def l02_schedules(path: Path) -> None:
    """abar_t and log-SNR of the three schedules."""
    from diffcourse.schedules import make_schedule

    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3))
    t = torch.arange(1000)
    for name in ("linear", "cosine", "scaled_linear"):
        abar = make_schedule(name)
        ax1.plot(t, abar, label=name)
        ax2.plot(t, torch.log(abar / (1 - abar)), label=name)
    ax1.set_xlabel("t")
    ax1.set_ylabel("abar_t (signal variance kept)")
    ax2.set_xlabel("t")
    ax2.set_ylabel("log SNR = log(abar_t / (1 - abar_t))")
    ax1.legend()
    fig.tight_layout()
    _save(fig, path)


def l02_forward_digits(path: Path) -> None:
    """One digit noised to increasing t under the linear and the cosine schedules."""
    from diffcourse.data import load_digits
    from diffcourse.forward import q_sample
    from diffcourse.plotting import make_grid
    from diffcourse.schedules import make_schedule

    plt = _pyplot()
    images, _ = load_digits("test")
    x0 = images[:1].double().expand(8, 1, 8, 8)  # (8, 1, 8, 8)
    steps = torch.tensor([0, 50, 100, 200, 400, 600, 800, 999])
    noise = torch.randn((1, 1, 8, 8), generator=_gen(4), dtype=torch.float64).expand(8, 1, 8, 8)
    fig, axes = plt.subplots(2, 1, figsize=(8, 2.6))
    for ax, name in zip(axes, ("linear", "cosine"), strict=True):
        xt = q_sample(x0, steps, noise, make_schedule(name))
        ax.imshow(make_grid(xt, nrow=8), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"{name} schedule, t = " + ", ".join(str(s) for s in steps.tolist()))
    _save(fig, path)


def l03_posterior_variance(path: Path) -> None:
    """The two DDPM variance choices, beta_t and the posterior's beta-tilde_t."""
    from diffcourse.forward import posterior_mean_variance
    from diffcourse.schedules import make_schedule

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3))
    t = torch.arange(1, 1000)
    for name, color in (("linear", "C0"), ("cosine", "C1")):
        abar = make_schedule(name)
        prev = torch.cat([torch.ones(1, dtype=abar.dtype), abar[:-1]])
        beta = 1 - abar / prev
        x = torch.zeros(t.shape[0], 1, dtype=torch.float64)
        _, var = posterior_mean_variance(x, x, t, t - 1, abar)
        ax.semilogy(t, beta[1:], color=color, label=f"beta_t ({name})")
        ax.semilogy(t, var.flatten(), color=color, ls="--", label=f"posterior variance ({name})")
    ax.set_xlabel("t")
    ax.legend(fontsize=7)
    _save(fig, path)


def l03_ddpm_trajectory(path: Path) -> None:
    """Snapshots of DDPM sampling with the exact score of eight Gaussians."""
    from diffcourse.data import eight_gaussians
    from diffcourse.samplers import ddpm_sample
    from diffcourse.schedules import make_schedule

    plt = _pyplot()
    mixture = eight_gaussians()
    abar = make_schedule("linear")
    _, traj = ddpm_sample(
        None,
        (800, 2),
        abar,
        _gen(5),
        predict=_mixture_predict(mixture, abar),
        dtype=torch.float64,
        return_trajectory=True,
    )
    shots = [0, 500, 800, 900, 950, 1000]  # indices into the trajectory (0 = x_{T-1})
    fig, axes = plt.subplots(1, len(shots), figsize=(10, 1.9), sharey=True)
    for ax, k in zip(axes, shots, strict=True):
        ax.scatter(traj[k, :, 0], traj[k, :, 1], s=1, alpha=0.5)
        ax.set_xlim(-3.5, 3.5)
        ax.set_ylim(-3.5, 3.5)
        ax.set_aspect("equal")
        ax.set_title("x_0" if k == 1000 else f"t = {999 - k}")
    _save(fig, path)


def l04_score_field(path: Path) -> None:
    """The score of a noised two-dimensional mixture at three noise levels."""
    from diffcourse.data import gaussian_mixture_2d
    from diffcourse.scores import gmm_noised_score

    plt = _pyplot()
    mixture = gaussian_mixture_2d([[-1.5, -1.0], [1.5, 1.0], [1.0, -1.5]], 0.3, [0.5, 0.3, 0.2])
    g = torch.linspace(-3, 3, 21, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    pts = torch.stack([xx.flatten(), yy.flatten()], dim=1)  # (441, 2)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.1))
    for ax, abar in zip(axes, (0.99, 0.7, 0.2), strict=True):
        s = gmm_noised_score(pts, torch.full((pts.shape[0],), abar, dtype=torch.float64), mixture)
        norm = s.norm(dim=1, keepdim=True).clamp_min(1e-9)
        u = s / norm * norm.log1p()  # shorter arrows far away, direction kept
        ax.quiver(pts[:, 0], pts[:, 1], u[:, 0], u[:, 1], norm.flatten().log(), cmap="viridis")
        ax.scatter(mixture.means[:, 0] * abar**0.5, mixture.means[:, 1] * abar**0.5, c="r", s=12)
        ax.set_aspect("equal")
        ax.set_title(f"abar = {abar} (noise std {math.sqrt(1 - abar):.2f})")
    fig.tight_layout()
    _save(fig, path)


def l04_langevin(path: Path) -> None:
    """Plain Langevin at the clean score against annealed Langevin, on two far modes."""
    from diffcourse.data import gaussian_mixture_2d
    from diffcourse.langevin import annealed_langevin, langevin
    from diffcourse.scores import GaussianMixture, gmm_noised_score

    plt = _pyplot()
    mixture = gaussian_mixture_2d([[-4.0, 0.0], [4.0, 0.0]], 0.5, [0.8, 0.2])
    n = 1000
    x_init = 8 * torch.rand((n, 2), generator=_gen(6), dtype=torch.float64) - 4  # uniform box

    def clean_score(x):
        return gmm_noised_score(x, torch.ones(x.shape[0], dtype=x.dtype), mixture)

    def smoothed_score(x, sigma):  # score of the data convolved with N(0, sigma^2 I)
        sigma = float(sigma)
        eye = torch.eye(2, dtype=torch.float64)
        wide = GaussianMixture(mixture.means, mixture.covs + sigma**2 * eye, mixture.weights)
        return gmm_noised_score(x, torch.ones(x.shape[0], dtype=x.dtype), wide)

    plain = langevin(clean_score, x_init, 0.01, 400, _gen(7))
    levels = torch.logspace(math.log10(10.0), math.log10(0.05), 10, dtype=torch.float64)
    annealed = annealed_langevin(smoothed_score, x_init, levels, 2e-4, 40, _gen(8))
    fig, axes = plt.subplots(1, 2, figsize=(8, 2.6), sharey=True)
    for ax, x, title in (
        (axes[0], plain, "Langevin, clean score"),
        (axes[1], annealed, "annealed"),
    ):
        right = (x[:, 0] > 0).double().mean().item()
        ax.hist(x[:, 0].numpy(), bins=80, range=(-6, 6), density=True)
        ax.set_title(f"{title}: {right:.0%} in the right mode (true 20%)")
        ax.set_xlabel("first coordinate")
    _save(fig, path)


def l05_sde_vs_ode(path: Path) -> None:
    """Paths of the reverse SDE (DDPM) and of the probability-flow ODE (DDIM, eta = 0), 1D."""
    from diffcourse.data import gaussian_mixture_2d
    from diffcourse.samplers import ddim_sample, ddpm_sample
    from diffcourse.schedules import make_schedule

    plt = _pyplot()
    # A 1D mixture: the first coordinate of a 2D one whose second coordinate we drop.
    mix2 = gaussian_mixture_2d([[-1.5, 0.0], [1.0, 0.0]], 0.25, [0.4, 0.6])
    abar = make_schedule("linear")
    predict2 = _mixture_predict(mix2, abar)

    def predict(x_t, t):  # (B, 1) -> (B, 1), second coordinate held at 0
        return predict2(torch.cat([x_t, torch.zeros_like(x_t)], 1), t)[:, :1]

    x_T = torch.randn((24, 1), generator=_gen(9), dtype=torch.float64)
    _, sde = ddpm_sample(
        None,
        (24, 1),
        abar,
        _gen(10),
        predict=predict,
        x_T=x_T,
        dtype=torch.float64,
        return_trajectory=True,
    )
    _, ode = ddim_sample(
        None,
        (24, 1),
        abar,
        200,
        _gen(11),
        predict=predict,
        x_T=x_T,
        dtype=torch.float64,
        return_trajectory=True,
    )
    fig, axes = plt.subplots(1, 2, figsize=(8, 2.8), sharey=True)
    axes[0].plot(torch.linspace(999, -1, sde.shape[0]), sde[:, :, 0], lw=0.6)
    axes[1].plot(torch.linspace(999, -1, ode.shape[0]), ode[:, :, 0], lw=0.8)
    for ax, title in zip(
        axes, ("reverse SDE (DDPM, 1000 steps)", "probability-flow ODE"), strict=True
    ):
        ax.invert_xaxis()
        ax.set_xlabel("t")
        ax.set_title(title)
    axes[0].set_ylabel("x_t")
    _save(fig, path)


def l06_ddim_steps(path: Path) -> None:
    """The same starting noise decoded by DDIM with 2 to 50 steps."""
    from diffcourse.plotting import make_grid
    from diffcourse.pretrained import load_digits_model

    plt = _pyplot()
    model = load_digits_model()
    labels = torch.arange(10)
    x_T = torch.randn((10, 1, 8, 8), generator=_gen(12))
    rows = []
    steps = (2, 5, 10, 20, 50)
    for n in steps:
        rows.append(_digits_sample(model, labels, seed=0, num_steps=n, x_T=x_T))
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.imshow(make_grid(torch.cat(rows), nrow=10), cmap="gray", interpolation="nearest")
    ax.set_yticks([4.5 + 9 * i for i in range(len(steps))], [f"{n} steps" for n in steps])
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    _save(fig, path)


def l07_guidance_grid(path: Path) -> None:
    """Class-conditional digits against the classifier-free guidance weight."""
    from diffcourse.judge import DigitsJudge
    from diffcourse.plotting import make_grid
    from diffcourse.pretrained import load_digits_model

    plt = _pyplot()
    model = load_digits_model()
    judge = DigitsJudge()
    weights = (0.0, 1.0, 2.0, 4.0, 8.0)
    labels = torch.arange(10).repeat_interleave(4)  # (40,)
    x_T = torch.randn((40, 1, 8, 8), generator=_gen(13))
    fig, axes = plt.subplots(len(weights), 1, figsize=(5.5, 6.5))
    for ax, w in zip(axes, weights, strict=True):
        x = _digits_sample(model, labels, seed=0, guidance_scale=w, x_T=x_T)  # (40, 1, 8, 8)
        acc = (judge.predict(x) == labels).double().mean().item()
        shown = x.reshape(10, 4, 1, 8, 8)[:, :2].transpose(0, 1).reshape(20, 1, 8, 8)
        ax.imshow(make_grid(shown, nrow=10), cmap="gray", interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"w = {w:g}: the judge reads {acc:.0%} of 40 samples as their class")
    _save(fig, path)


def l08_slerp_norms(path: Path) -> None:
    """Norms along linear and spherical paths between two Gaussian noises."""
    from diffcourse.interpolation import slerp

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3))
    alpha = torch.linspace(0, 1, 41, dtype=torch.float64)
    for d, color in ((64, "C0"), (3 * 64 * 64, "C1")):
        g = _gen(14)
        z0 = torch.randn((1, d), generator=g, dtype=torch.float64).expand(41, d)
        z1 = torch.randn((1, d), generator=g, dtype=torch.float64).expand(41, d)
        lin = (1 - alpha[:, None]) * z0 + alpha[:, None] * z1
        sph = slerp(z0, z1, alpha)
        ax.plot(alpha, lin.norm(dim=1) / math.sqrt(d), color=color, ls="--", label=f"lerp, d={d}")
        ax.plot(alpha, sph.norm(dim=1) / math.sqrt(d), color=color, label=f"slerp, d={d}")
    ax.axhline(1 / math.sqrt(2), color="gray", lw=0.5)
    ax.set_xlabel("interpolation weight")
    ax.set_ylabel("||z|| / sqrt(d)")
    ax.legend(fontsize=7)
    _save(fig, path)


def l08_anagrams(path: Path) -> None:
    """Visual anagrams, upright and turned (views: identity and a half turn)."""
    from diffcourse.plotting import make_grid
    from diffcourse.pretrained import load_digits_model

    plt = _pyplot()
    model = load_digits_model()
    pairs = [(6, 9), (1, 7), (0, 3), (7, 1), (3, 0)]
    x = _anagrams(model, pairs, candidates=24, seed=30)
    turned = torch.rot90(x, 2, dims=(-2, -1))
    fig, ax = plt.subplots(figsize=(5, 2))
    ax.imshow(
        make_grid(torch.cat([x, turned]), nrow=len(pairs)), cmap="gray", interpolation="nearest"
    )
    ax.set_xticks([4.5 + 9 * i for i in range(len(pairs))], [f"{a} / {b}" for a, b in pairs])
    ax.set_yticks([4.5, 13.5], ["upright", "turned"])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    _save(fig, path)


def l09_inpainting(path: Path) -> None:
    """Filling in the missing half of digits: replacement, RePaint and DPS."""
    from diffcourse.data import load_digits
    from diffcourse.inverse import dps_sample, repaint_sample
    from diffcourse.plotting import make_grid
    from diffcourse.pretrained import load_digits_model

    plt = _pyplot()
    model = load_digits_model()
    images, _ = load_digits("test")
    x0 = images[:8]  # (8, 1, 8, 8)
    mask = torch.zeros_like(x0)
    mask[..., :, :4] = 1.0  # keep the left half
    y = x0 * mask
    abar = model.alphas_cumprod
    rep1 = repaint_sample(model, y, mask, abar, _gen(15), num_steps=100, resamplings=1,
                          clip_sample=True)  # fmt: skip
    rep5 = repaint_sample(model, y, mask, abar, _gen(16), num_steps=100, resamplings=5,
                          clip_sample=True)  # fmt: skip
    dps = dps_sample(model, y, lambda x: x * mask, x0.shape, abar, _gen(17), num_steps=100)
    rows = [x0, y + (1 - mask) * 0.0, rep1, rep5, dps]
    names = ["truth", "observed", "replacement", "RePaint (5)", "DPS"]
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.imshow(make_grid(torch.cat(rows), nrow=8), cmap="gray", interpolation="nearest")
    ax.set_yticks([4.5 + 9 * i for i in range(len(rows))], names)
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    _save(fig, path)


def l10_timestep_embedding(path: Path) -> None:
    """The sinusoidal timestep embedding that tells the network the noise level."""
    from diffcourse.models import timestep_embedding

    plt = _pyplot()
    t = torch.arange(1000)
    emb = timestep_embedding(t, 64)  # (1000, 64)
    fig, ax = plt.subplots(figsize=(6, 2.6))
    im = ax.imshow(emb.T, aspect="auto", cmap="RdBu", interpolation="nearest")
    ax.set_xlabel("timestep t")
    ax.set_ylabel("embedding dimension")
    fig.colorbar(im, ax=ax)
    _save(fig, path)


def l11_custom_data(path: Path) -> None:
    """A small network trained in seconds on a 2D data set, sampled with DDIM."""
    from diffcourse.data import two_moons
    from diffcourse.losses import dsm_loss
    from diffcourse.models import TimeMLP
    from diffcourse.samplers import ddim_sample
    from diffcourse.schedules import make_schedule

    plt = _pyplot()
    torch.manual_seed(0)
    data = two_moons(4000, _gen(18))  # (4000, 2)
    abar = make_schedule("cosine")
    model = TimeMLP(data_dim=2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = _gen(19)
    for _ in range(1000):
        idx = torch.randint(0, data.shape[0], (256,), generator=g)
        x0 = data[idx]
        t = torch.randint(0, 1000, (256,), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        loss = dsm_loss(model, x0, t, noise, abar)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x = ddim_sample(model, (2000, 2), abar, 50, _gen(20))
    fig, axes = plt.subplots(1, 2, figsize=(6, 2.8), sharex=True, sharey=True)
    axes[0].scatter(data[:2000, 0], data[:2000, 1], s=1, color="gray")
    axes[0].set_title("training data")
    axes[1].scatter(x[:, 0], x[:, 1], s=1)
    axes[1].set_title("samples (DDIM, 50 steps)")
    for ax in axes:
        ax.set_aspect("equal")
    _save(fig, path)


def _three_modes():
    """The 2D target of the flow-matching figures: three Gaussians, exact velocity known."""
    from diffcourse.data import gaussian_mixture_2d

    return gaussian_mixture_2d([[-2.0, 1.5], [2.0, 1.5], [0.0, -2.0]], 0.25)


def _reflow_student(mixture, steps=1000, batch=512):
    """2-rectified flow: a TimeMLP trained by CFM on the exact flow's (x0, noise) pairs."""
    from diffcourse.flow import cfm_loss, gmm_velocity, network_velocity, reflow_pairs
    from diffcourse.models import TimeMLP

    g = _gen(40)
    noise = torch.randn((10000, 2), generator=g, dtype=torch.float64)
    x0, noise = reflow_pairs(lambda x, t: gmm_velocity(x, t, mixture), noise, 50)
    x0, noise = x0.float(), noise.float()
    torch.manual_seed(41)
    model = TimeMLP(data_dim=2)
    velocity = network_velocity(model)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(steps):
        idx = torch.randint(0, x0.shape[0], (batch,), generator=g)
        t = torch.rand(batch, generator=g)
        loss = cfm_loss(velocity, x0[idx], noise[idx], t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return velocity


def _consistency_student(mixture, steps=1200, grid_size=20):
    """A consistency model distilled from the exact flow (Heun teacher steps, EMA target)."""
    import copy

    from diffcourse.flow import (
        consistency_distillation_loss,
        consistency_function,
        gmm_velocity,
        network_velocity,
    )
    from diffcourse.models import TimeMLP

    g = _gen(42)
    torch.manual_seed(43)
    model = TimeMLP(data_dim=2)
    ema = copy.deepcopy(model)
    student = lambda x, t: consistency_function(network_velocity(model), x, t)
    target = lambda x, t: consistency_function(network_velocity(ema), x, t)
    teacher = lambda x, t: gmm_velocity(x.double(), t.double(), mixture).float()
    grid = torch.linspace(0, 1, grid_size + 1)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(steps):
        x0 = mixture.sample(256, g).float()
        noise = torch.randn((256, 2), generator=g)
        n = torch.randint(0, grid_size, (256,), generator=g)
        loss = consistency_distillation_loss(
            student, target, teacher, x0, noise, grid[n + 1], grid[n]
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for p, p_ema in zip(model.parameters(), ema.parameters(), strict=True):
                p_ema.mul_(0.95).add_(p, alpha=0.05)
    model.eval()
    return student


def _square_2d(axes, lim=3.5):
    for ax in axes:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")


def l12_paths(path: Path) -> None:
    """Conditional straight paths cross; the marginal flow's paths do not, and curve."""
    from diffcourse.flow import flow_sample, gmm_velocity, interpolate

    plt = _pyplot()
    mixture = _three_modes()
    exact = lambda x, t: gmm_velocity(x, t, mixture)
    g = _gen(44)
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.3), sharex=True, sharey=True)
    x0 = mixture.sample(40, g)
    noise = torch.randn((40, 2), generator=g, dtype=torch.float64)
    s = torch.linspace(0, 1, 2, dtype=torch.float64)
    for i in range(40):
        line = interpolate(x0[i : i + 1].expand(2, 2), noise[i : i + 1].expand(2, 2), s)
        axes[0].plot(line[:, 0], line[:, 1], color="gray", lw=0.6)
    axes[0].scatter(noise[:, 0], noise[:, 1], s=6, color="k", label="noise (t = 1)")
    axes[0].scatter(x0[:, 0], x0[:, 1], s=6, color="C3", label="data (t = 0)")
    axes[0].set_title("conditional paths:\nstraight, and they cross")
    axes[0].legend(fontsize=7, loc="lower left")
    z = torch.randn((150, 2), generator=g, dtype=torch.float64)
    end, traj = flow_sample(exact, z, 60, "heun", return_trajectory=True)  # (61, 150, 2)
    mode = torch.cdist(end, mixture.means).argmin(1)
    for i in range(150):
        axes[1].plot(traj[:, i, 0], traj[:, i, 1], color=f"C{mode[i].item()}", lw=0.5)
    axes[1].scatter(z[:, 0], z[:, 1], s=4, color="k")
    axes[1].set_title("marginal flow (exact velocity):\ncurved, and they never cross")
    big = torch.randn((2000, 2), generator=g, dtype=torch.float64)
    truth = mixture.sample(2000, g)
    axes[2].scatter(truth[:, 0], truth[:, 1], s=1, color="lightgray", label="data")
    for n, color in ((2, "C1"), (4, "C2")):
        x = flow_sample(exact, big[:500], n)
        axes[2].scatter(x[:, 0], x[:, 1], s=2, color=color, label=f"Euler, {n} steps")
    one = flow_sample(exact, big[:500], 1)
    axes[2].scatter(one[:, 0], one[:, 1], s=60, marker="*", color="k", label="Euler, 1 step")
    axes[2].set_title("Euler steps on the marginal flow:\none step lands on the data mean")
    axes[2].legend(fontsize=7, loc="lower left")
    _square_2d(axes)
    _save(fig, path)


def l12_reflow(path: Path) -> None:
    """One round of reflow: straighter paths and usable one-step samples."""
    from diffcourse.flow import flow_sample, gmm_velocity, straightness

    plt = _pyplot()
    mixture = _three_modes()
    exact = lambda x, t: gmm_velocity(x, t, mixture)
    student = _reflow_student(mixture)
    z = torch.randn((2000, 2), generator=_gen(45))
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.3), sharex=True, sharey=True)
    with torch.no_grad():
        for ax, (name, v, zz) in zip(
            axes[:2], (("1-rectified (exact)", exact, z.double()), ("2-rectified", student, z)),
            strict=True,
        ):  # fmt: skip
            end, traj = flow_sample(v, zz, 50, "heun", return_trajectory=True)
            for i in range(120):
                ax.plot(traj[:, i, 0], traj[:, i, 1], color="C0", lw=0.5)
            ax.set_title(f"{name}:\nstraightness {straightness(traj).item():.3f}")
        one_exact = flow_sample(exact, z[:1000].double(), 1)
        one_student = flow_sample(student, z[:1000], 1)
    truth = mixture.sample(2000, _gen(46))
    axes[2].scatter(truth[:, 0], truth[:, 1], s=1, color="lightgray", label="data")
    axes[2].scatter(one_student[:, 0], one_student[:, 1], s=2, color="C2",
                    label="2-rectified, 1 step")  # fmt: skip
    axes[2].scatter(one_exact[:, 0], one_exact[:, 1], s=60, marker="*", color="k",
                    label="1-rectified, 1 step")  # fmt: skip
    axes[2].legend(fontsize=7, loc="lower left")
    axes[2].set_title("one Euler step each")
    _square_2d(axes)
    _save(fig, path)


def l13_few_step(path: Path) -> None:
    """Sample quality against network evaluations: solvers, reflow and a consistency model."""
    from diffcourse.flow import consistency_sample, flow_sample, gmm_velocity
    from diffcourse.metrics import sliced_wasserstein
    from diffcourse.samplers import ddim_sample
    from diffcourse.schedules import make_schedule

    plt = _pyplot()
    mixture = _three_modes()
    exact = lambda x, t: gmm_velocity(x, t, mixture)
    reflow = _reflow_student(mixture)
    consistency = _consistency_student(mixture)
    abar = make_schedule("cosine")
    n = 8000
    truth = mixture.sample(n, _gen(47))
    z = torch.randn((n, 2), generator=_gen(48), dtype=torch.float64)

    def sw(x):
        return sliced_wasserstein(x.double(), truth, generator=_gen(49)).item()

    nfes = [1, 2, 4, 8, 16]
    curves = {}
    with torch.no_grad():
        curves["flow, Euler (exact velocity)"] = [(k, sw(flow_sample(exact, z, k))) for k in nfes]
        curves["flow, Heun (exact velocity)"] = [
            (2 * k, sw(flow_sample(exact, z, k, "heun"))) for k in (1, 2, 4, 8)
        ]
        curves["DDIM (exact noise prediction)"] = [
            (k, sw(ddim_sample(None, (n, 2), abar, k, _gen(50), spacing="trailing", x_T=z,
                               predict=_mixture_predict(mixture, abar), dtype=torch.float64)))
            for k in nfes
        ]  # fmt: skip
        curves["2-rectified flow, Euler"] = [
            (k, sw(flow_sample(reflow, z.float(), k))) for k in nfes
        ]
        curves["consistency model"] = [
            (k, sw(consistency_sample(consistency, z.float(),
                                      [1 - j / k for j in range(1, k)], _gen(51))))
            for k in (1, 2, 4, 8)
        ]  # fmt: skip
    # Two samples of the data differ too (mostly in how many points each mode gets): the
    # band is the range of the distance over five fresh data samples, the metric's noise.
    floor = [sw(mixture.sample(n, _gen(60 + k))) for k in range(5)]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for (name, pts), marker in zip(curves.items(), "osd^v", strict=True):
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, label=name)
    ax.axhspan(min(floor), max(floor), color="gray", alpha=0.25,
               label="fresh data samples (metric noise)")  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("network evaluations per sample")
    ax.set_ylabel("sliced Wasserstein distance to the data")
    ax.legend(fontsize=7)
    _save(fig, path)


def l14_superresolution(path: Path) -> None:
    """Digits from their 2x2 block averages: pseudo-inverse, PnP, RED and null-space DDIM."""
    from torch.nn import functional as F

    from diffcourse.data import load_digits
    from diffcourse.plotting import make_grid
    from diffcourse.pretrained import load_digits_model
    from diffcourse.priors import (
        denoiser_from_eps,
        null_space_ddim,
        pnp_hqs,
        project_measurements,
        red_solve,
    )
    from diffcourse.samplers import make_predict

    plt = _pyplot()
    model = load_digits_model()
    abar = model.alphas_cumprod
    predict = make_predict(model)  # the null label: an unconditional prior
    denoise = denoiser_from_eps(predict, abar)
    images, _ = load_digits("test")
    x0 = images[:10]  # (10, 1, 8, 8)
    A = lambda x: F.avg_pool2d(x, 2)  # (B, 1, 4, 4); A A^T = I / 4
    A_pinv = lambda y: F.interpolate(y, scale_factor=2, mode="nearest")  # = 4 A^T
    y = A(x0)
    project = lambda z: project_measurements(z, y, A, A_pinv)
    with torch.no_grad():
        pnp = pnp_hqs(denoise, torch.linspace(200, 0, 30).round().long().tolist(), A_pinv(y),
                      project)  # fmt: skip
        data_grad = lambda x: A_pinv(A(x) - y) / 4 / 0.01  # A^T (A x - y) / s^2, s = 0.1
        red = red_solve(denoise, 100, A_pinv(y), data_grad, 2.0, 0.005, 300)
        samples = [
            null_space_ddim(predict, y, A, A_pinv, abar, 50,
                            torch.randn(x0.shape, generator=_gen(70 + k)))
            for k in range(2)
        ]  # fmt: skip

    def psnr(x):  # images in [-1, 1]: peak-to-peak 2
        mse = ((x.clamp(-1, 1) - x0) ** 2).flatten(1).mean(1)
        return (10 * torch.log10(4 / mse)).mean().item()

    rows = [("truth", x0), ("observed (A+ y)", A_pinv(y)), ("plug-and-play", pnp), ("RED", red),
            ("null-space DDIM", samples[0]), ("another seed", samples[1])]  # fmt: skip
    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    ax.imshow(make_grid(torch.cat([r[1] for r in rows]), nrow=10), cmap="gray",
              interpolation="nearest")  # fmt: skip
    labels = [name if k == 0 else f"{name}: {psnr(x):.1f} dB" for k, (name, x) in enumerate(rows)]
    ax.set_yticks([4.5 + 9 * i for i in range(len(rows))], labels)
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    _save(fig, path)


def l15_latent(path: Path) -> None:
    """A PCA autoencoder's reconstructions, and a small diffusion model trained on its latents."""
    from diffcourse.data import load_digits
    from diffcourse.latent import PCAAutoencoder
    from diffcourse.losses import dsm_loss
    from diffcourse.models import TimeMLP
    from diffcourse.plotting import make_grid
    from diffcourse.samplers import ddim_sample
    from diffcourse.schedules import make_schedule

    plt = _pyplot()
    train, _ = load_digits("train")
    test, _ = load_digits("test")
    shown = test[:10]
    rows, names = [shown], ["test digits"]
    ks = (4, 8, 16, 32)
    errors = []
    for k in ks:
        ae = PCAAutoencoder(train, k)
        rec = ae.decode(ae.encode(test))
        errors.append((rec - test).pow(2).mean().item() / test.var().item())
        rows.append(rec[:10])
        names.append(f"k = {k}: {errors[-1]:.0%} of variance lost")
    ae = PCAAutoencoder(train, 16)
    latents = ae.encode(train).float()  # (1500, 16), unit mean square
    abar = make_schedule("cosine")
    torch.manual_seed(80)
    model = TimeMLP(data_dim=16)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    g = _gen(81)
    for _ in range(1000):
        idx = torch.randint(0, latents.shape[0], (256,), generator=g)
        t = torch.randint(0, 1000, (256,), generator=g)
        loss = dsm_loss(model, latents[idx], t, torch.randn((256, 16), generator=g), abar)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        z = ddim_sample(model, (10, 16), abar, 50, _gen(82))
    rows.append(ae.decode(z).clamp(-1, 1))
    names.append("latent diffusion, k = 16")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.6), width_ratios=(1.6, 1))
    ax.imshow(make_grid(torch.cat(rows), nrow=10), cmap="gray", interpolation="nearest")
    ax.set_yticks([4.5 + 9 * i for i in range(len(rows))], names)
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    var = ae.variances  # (64,) every component's variance, largest first
    kept = torch.cat([torch.zeros(1, dtype=var.dtype), var.cumsum(0) / var.sum()])  # k = 0..64
    ax2.plot(range(65), kept.tolist(), marker=".")
    ax2.set_xlabel("latent dimensions k (of 64 pixels)")
    ax2.set_ylabel("fraction of pixel variance kept")
    ax2.set_ylim(0, 1.02)
    fig.tight_layout()
    _save(fig, path)


def l16_evaluation(path: Path) -> None:
    """FD's sample-size bias, precision and recall of four toy models, and a copy test."""
    from diffcourse.data import load_digits
    from diffcourse.metrics import (
        frechet_distance,
        knn_precision_recall,
        nearest_neighbour_distance,
    )
    from diffcourse.pretrained import load_digits_model
    from diffcourse.samplers import ddim_sample
    from diffcourse.scores import GaussianMixture

    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.3), width_ratios=(1, 1.2, 1))
    # (a) Two samples of the same Gaussian are at a positive, n-dependent distance.
    g = _gen(90)
    sizes = [100, 200, 500, 1000, 2000, 5000]
    for d, color in ((16, "C0"), (64, "C1")):
        fd = [
            sum(frechet_distance(torch.randn((n, d), generator=g, dtype=torch.float64),
                                 torch.randn((n, d), generator=g, dtype=torch.float64)).item()
                for _ in range(3)) / 3
            for n in sizes
        ]  # fmt: skip
        axes[0].loglog(sizes, fd, marker="o", color=color, label=f"FD, d = {d}")
        axes[0].loglog(sizes, [2 * d / n for n in sizes], ls="--", color=color,
                       label="mean term alone, 2d/n")  # fmt: skip
    axes[0].set_xlabel("samples per set, n")
    axes[0].set_ylabel("Frechet distance")
    axes[0].set_title("same distribution, two samples")
    axes[0].legend(fontsize=7)
    # (b) Precision (fidelity) and recall (coverage) separate what one number mixes.
    mixture = _three_modes()
    real = mixture.sample(1500, _gen(91))
    eye = torch.eye(2, dtype=torch.float64)
    models = {
        "good": mixture,
        "one mode\ndropped": GaussianMixture(mixture.means[:2], mixture.covs[:2],
                                              mixture.weights[:2]),
        "too wide": GaussianMixture(mixture.means, mixture.covs * 6.25, mixture.weights),
        "too narrow": GaussianMixture(mixture.means, mixture.covs * 0.16, mixture.weights),
        "noise\n(no model)": GaussianMixture(torch.zeros(1, 2, dtype=torch.float64),
                                             (4 * eye)[None], torch.ones(1, dtype=torch.float64)),
    }  # fmt: skip
    xs = torch.arange(len(models), dtype=torch.float64)
    pr, fds = [], []
    for k, m in enumerate(models.values()):
        fake = m.sample(1500, _gen(92 + k))
        pr.append(knn_precision_recall(real, fake, k=3))
        fds.append(frechet_distance(real, fake).item())
    axes[1].bar(xs - 0.2, [p for p, _ in pr], 0.4, label="precision")
    axes[1].bar(xs + 0.2, [r for _, r in pr], 0.4, label="recall")
    for x, fd in zip(xs.tolist(), fds, strict=True):
        axes[1].text(x, 1.04, f"FD {fd:.2f}", ha="center", fontsize=7)
    axes[1].set_xticks(xs.tolist(), list(models), fontsize=7)
    axes[1].set_ylim(0, 1.15)
    axes[1].set_title("three-cluster toy: k-NN precision and recall (k = 3)")
    axes[1].legend(fontsize=7, loc="center right")
    # (c) Copies sit closer to the training set than fresh data does.
    train, _ = load_digits("train")
    test, _ = load_digits("test")
    n = test.shape[0]
    model = load_digits_model()
    with torch.no_grad():
        samples = ddim_sample(model, (n, 1, 8, 8), model.alphas_cumprod, 50, _gen(93),
                              clip_sample=True)  # fmt: skip
    copies = train[:n] + 0.05 * torch.randn(train[:n].shape, generator=_gen(94))
    flat = lambda x: x.reshape(x.shape[0], -1)
    bins = torch.linspace(0, 6, 41).tolist()
    for name, x, color in (("held-out test digits", test, "gray"),
                           ("samples of the digits model", samples, "C0"),
                           ("a copier: training digits + noise", copies, "C3")):  # fmt: skip
        dist = nearest_neighbour_distance(flat(x), flat(train))
        axes[2].hist(dist.tolist(), bins=bins, alpha=0.55, color=color, label=name)
    axes[2].set_xlabel("distance to the nearest training digit")
    axes[2].set_ylabel("count")
    axes[2].set_title("memorisation test")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)


def l17_audit(path: Path) -> None:
    """Auditing the digits model: class shares of unconditional samples, per-class success."""
    from diffcourse.data import load_digits
    from diffcourse.judge import DigitsJudge
    from diffcourse.pretrained import load_digits_model

    plt = _pyplot()
    model = load_digits_model()
    judge = DigitsJudge()
    _, train_labels = load_digits("train")
    test, test_labels = load_digits("test")
    n = 1000
    with torch.no_grad():
        free = _digits_sample(model, torch.full((n,), model.null_label), seed=100,
                              guidance_scale=None)  # fmt: skip
        asked = torch.arange(10).repeat_interleave(50)  # 50 requests per class
        guided = _digits_sample(model, asked, seed=101, guidance_scale=1.0)  # no guidance
    share = torch.bincount(judge.predict(free), minlength=10).double() / n
    truth = torch.bincount(train_labels, minlength=10).double() / train_labels.shape[0]
    half = 1.96 * (share * (1 - share) / n).sqrt()  # 95% normal interval of a proportion
    digits = torch.arange(10, dtype=torch.float64)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
    ax1.bar(digits - 0.2, truth.tolist(), 0.4, color="gray", label="training set")
    ax1.bar(digits + 0.2, share.tolist(), 0.4, yerr=half.tolist(), capsize=2,
            label=f"{n} unconditional samples, as read by the judge")  # fmt: skip
    ax1.set_xticks(range(10))
    ax1.set_xlabel("digit")
    ax1.set_ylabel("share")
    ax1.set_title("who gets generated?")
    ax1.legend(fontsize=7, loc="lower center")
    ok = (judge.predict(guided) == asked).double().reshape(10, 50).mean(1)
    judge_ok = torch.stack(
        [(judge.predict(test[test_labels == c]) == c).double().mean() for c in range(10)]
    )
    ax2.bar(digits - 0.2, judge_ok.tolist(), 0.4, color="gray", label="judge on real test digits")
    ax2.bar(digits + 0.2, ok.tolist(), 0.4, label="samples read as the class asked for (w = 1)")
    ax2.set_xticks(range(10))
    ax2.set_ylim(0, 1.1)
    ax2.set_xlabel("digit")
    ax2.set_ylabel("fraction")
    ax2.set_title("does every class get the same quality?")
    ax2.legend(fontsize=7, loc="lower center")
    _save(fig, path)


FIGURES: tuple[Figure, ...] = (
    Figure(
        "showcase-sampling.gif",
        showcase_sampling,
        ("animate", "data", "samplers", "schedules", "forward", "scores"),
    ),
    Figure(
        "showcase-anagram.gif",
        showcase_anagram,
        ("animate", "pretrained", "models", "illusions", "judge", "samplers", "guidance"),
        True,
    ),
    Figure(
        "showcase-interpolation.gif",
        showcase_interpolation,
        ("animate", "pretrained", "models", "interpolation", "samplers", "guidance"),
        True,
    ),
    Figure("l01-noising-2d.png", l01_noising_2d, ("data", "forward", "schedules")),
    Figure("l02-schedules.png", l02_schedules, ("schedules",)),
    Figure(
        "l02-forward-digits.png", l02_forward_digits, ("data", "forward", "schedules", "plotting")
    ),
    Figure("l03-posterior-variance.png", l03_posterior_variance, ("forward", "schedules")),
    Figure(
        "l03-ddpm-trajectory.png",
        l03_ddpm_trajectory,
        ("data", "samplers", "schedules", "forward", "scores"),
    ),
    Figure("l04-score-field.png", l04_score_field, ("data", "scores")),
    Figure("l04-langevin.png", l04_langevin, ("data", "langevin", "scores")),
    Figure(
        "l05-sde-vs-ode.png", l05_sde_vs_ode, ("data", "samplers", "schedules", "forward", "scores")
    ),
    Figure(
        "l06-ddim-steps.png",
        l06_ddim_steps,
        ("pretrained", "models", "samplers", "guidance", "plotting"),
        True,
    ),
    Figure(
        "l07-guidance-grid.png",
        l07_guidance_grid,
        ("pretrained", "models", "samplers", "guidance", "judge", "plotting"),
        True,
    ),
    Figure("l08-slerp-norms.png", l08_slerp_norms, ("interpolation",)),
    Figure(
        "l08-anagrams.png",
        l08_anagrams,
        ("pretrained", "models", "illusions", "judge", "samplers", "guidance", "plotting"),
        True,
    ),
    Figure(
        "l09-inpainting.png",
        l09_inpainting,
        ("pretrained", "models", "inverse", "data", "plotting"),
        True,
    ),
    Figure("l10-timestep-embedding.png", l10_timestep_embedding, ("models",)),
    Figure(
        "l11-custom-data.png",
        l11_custom_data,
        ("data", "losses", "models", "samplers", "schedules"),
    ),
    Figure("l12-paths.png", l12_paths, ("data", "flow", "scores")),
    Figure("l12-reflow.png", l12_reflow, ("data", "flow", "models", "scores")),
    Figure(
        "l13-few-step.png",
        l13_few_step,
        ("data", "flow", "models", "scores", "metrics", "samplers", "schedules", "forward"),
    ),
    Figure(
        "l14-superresolution.png",
        l14_superresolution,
        ("pretrained", "models", "priors", "data", "samplers", "forward", "schedules", "plotting"),
        True,
    ),
    Figure(
        "l15-latent.png",
        l15_latent,
        ("data", "latent", "losses", "models", "plotting", "samplers", "schedules", "forward"),
    ),
    Figure(
        "l16-evaluation.png",
        l16_evaluation,
        ("data", "metrics", "pretrained", "models", "samplers", "scores", "forward", "schedules"),
        True,
    ),
    Figure(
        "l17-audit.png",
        l17_audit,
        ("data", "judge", "pretrained", "models", "samplers", "guidance"),
        True,
    ),
)


# ----------------------------------------------------------------- stamps


def _module_source(name: str) -> bytes:
    spec = importlib.util.find_spec(f"diffcourse.{name}")
    if spec is None or spec.origin is None:
        return f"missing module diffcourse.{name}".encode()
    return Path(spec.origin).read_bytes()


def input_hash(fig: Figure) -> str:
    """Hash of everything that decides the figure's bytes (see the module docstring)."""
    h = hashlib.sha256()
    h.update(fig.name.encode())
    h.update(inspect.getsource(fig.make).encode())
    helpers = (_pyplot, _save, _gen, _mixture_predict, _digits_sample, _anagrams, _rotate,
               _three_modes, _reflow_student, _consistency_student, _square_2d)  # fmt: skip
    for helper in helpers:
        h.update(inspect.getsource(helper).encode())
    for name in sorted(set(fig.modules)):
        h.update(name.encode())
        h.update(_module_source(name))
    if fig.uses_checkpoint:
        from diffcourse.pretrained import checkpoint_path

        ckpt = Path(checkpoint_path())
        h.update(ckpt.read_bytes() if ckpt.is_file() else b"missing checkpoint")
    h.update(torch.__version__.encode())
    return h.hexdigest()


def _read_stamps(out: Path) -> dict:
    try:
        return json.loads((out / STAMPS).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def stale(out: Path = FIGURES_DIR, figures=FIGURES) -> list[Figure]:
    """Figures whose file is missing or whose inputs changed since they were made."""
    stamps = _read_stamps(out)
    return [
        f for f in figures if not (out / f.name).is_file() or stamps.get(f.name) != input_hash(f)
    ]


def _make_one(name: str, out: str, threads: int) -> tuple[str, float, str | None]:
    """Make one figure into out (in a worker process); return (name, seconds, error)."""
    torch.set_num_threads(threads)
    fig = next(f for f in FIGURES if f.name == name)
    start = time.perf_counter()
    tmp = Path(out) / f".tmp-{fig.name}"
    try:
        fig.make(tmp)
    except Exception as e:  # reported by the parent, with every other failure
        tmp.unlink(missing_ok=True)
        return name, time.perf_counter() - start, f"{type(e).__name__}: {e}"
    tmp.replace(Path(out) / fig.name)
    return name, time.perf_counter() - start, None


def make_figures(
    out: Path = FIGURES_DIR, names=None, force: bool = False, log=print, jobs: int = 2
) -> dict[str, float]:
    """Make the stale figures (all of `names`, or every figure); return seconds per figure.

    With jobs > 1 the figures are made by that many worker processes of one thread each
    (on 2 cores that is faster than one process with 2 threads: the models are small).
    """
    known = {f.name: f for f in FIGURES}
    if names:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown figure(s): {', '.join(unknown)} (see --list)")
        todo = [known[n] for n in names]
    else:
        todo = list(FIGURES)
    if not force:
        todo = [f for f in todo if f in stale(out, todo)]
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    failures: list[str] = []

    def done(name: str, seconds: float, error: str | None) -> None:
        if error:
            failures.append(f"{name}: {error}")
            log(f"  {name:32s} FAILED: {error}")
            return
        stamps = _read_stamps(out)
        stamps[name] = input_hash(known[name])
        (out / STAMPS).write_text(json.dumps(stamps, indent=1, sort_keys=True))
        times[name] = seconds
        log(f"  {name:32s} {seconds:6.1f} s")

    if jobs > 1 and len(todo) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = [pool.submit(_make_one, f.name, str(out), 1) for f in todo]
            for future in as_completed(futures):
                done(*future.result())
    else:
        threads = min(2, torch.get_num_threads())
        for fig in todo:
            done(*_make_one(fig.name, str(out), threads))
    if failures:
        raise FigureError(f"{len(failures)} figure(s) failed:\n" + "\n".join(failures))
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m diffcourse_staff.site.figures",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", help="figure names (default: all)")
    parser.add_argument("--force", action="store_true", help="remake even if current")
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    parser.add_argument("--out", type=Path, default=FIGURES_DIR, help="output folder")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(argv)
    if args.list:
        old = {f.name for f in stale(args.out)}
        for f in FIGURES:
            print(f"{f.name:32s} {'stale' if f.name in old else 'current'}")
        return 0
    start = time.perf_counter()
    try:
        times = make_figures(args.out, args.names, args.force, jobs=args.jobs)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except FigureError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    total = time.perf_counter() - start
    print(
        f"figures: {len(times)} made, {len(FIGURES) - len(times)} current, {total:.1f} s"
        f" -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
