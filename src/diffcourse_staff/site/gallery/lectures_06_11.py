"""Figures of lectures 6-11: fast sampling, guidance, interpolation and illusions,
inverse problems, architectures, training on custom data."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from diffcourse_staff.site.gallery.common import anagrams, digits_sample
from diffcourse_staff.site.gallery.style import gen, pyplot, save


def l06_ddim_steps(path: Path) -> None:
    """The same starting noise decoded by DDIM with 2 to 50 steps."""
    from diffcourse.plotting import make_grid
    from diffcourse.pretrained import load_digits_model

    plt = pyplot()
    model = load_digits_model()
    labels = torch.arange(10)
    x_T = torch.randn((10, 1, 8, 8), generator=gen(12))
    rows = []
    steps = (2, 5, 10, 20, 50)
    for n in steps:
        rows.append(digits_sample(model, labels, seed=0, num_steps=n, x_T=x_T))
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.imshow(make_grid(torch.cat(rows), nrow=10), cmap="gray", interpolation="nearest")
    ax.set_yticks([4.5 + 9 * i for i in range(len(steps))], [f"{n} steps" for n in steps])
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    save(fig, path)


def l07_guidance_grid(path: Path) -> None:
    """Class-conditional digits against the classifier-free guidance weight."""
    from diffcourse.judge import DigitsJudge
    from diffcourse.plotting import make_grid
    from diffcourse.pretrained import load_digits_model

    plt = pyplot()
    model = load_digits_model()
    judge = DigitsJudge()
    weights = (0.0, 1.0, 2.0, 4.0, 8.0)
    labels = torch.arange(10).repeat_interleave(4)  # (40,)
    x_T = torch.randn((40, 1, 8, 8), generator=gen(13))
    fig, axes = plt.subplots(len(weights), 1, figsize=(5.5, 6.5))
    for ax, w in zip(axes, weights, strict=True):
        x = digits_sample(model, labels, seed=0, guidance_scale=w, x_T=x_T)  # (40, 1, 8, 8)
        acc = (judge.predict(x) == labels).double().mean().item()
        shown = x.reshape(10, 4, 1, 8, 8)[:, :2].transpose(0, 1).reshape(20, 1, 8, 8)
        ax.imshow(make_grid(shown, nrow=10), cmap="gray", interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"w = {w:g}: the judge reads {acc:.0%} of 40 samples as their class")
    save(fig, path)


def l08_slerp_norms(path: Path) -> None:
    """Norms along linear and spherical paths between two Gaussian noises."""
    from diffcourse.interpolation import slerp

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3))
    alpha = torch.linspace(0, 1, 41, dtype=torch.float64)
    for d, color in ((64, "C0"), (3 * 64 * 64, "C1")):
        g = gen(14)
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
    save(fig, path)


def l08_anagrams(path: Path) -> None:
    """Visual anagrams, upright and turned (views: identity and a half turn)."""
    from diffcourse.plotting import make_grid
    from diffcourse.pretrained import load_digits_model

    plt = pyplot()
    model = load_digits_model()
    pairs = [(6, 9), (1, 7), (0, 3), (7, 1), (3, 0)]
    x = anagrams(model, pairs, candidates=24, seed=30)
    turned = torch.rot90(x, 2, dims=(-2, -1))
    fig, ax = plt.subplots(figsize=(5, 2))
    ax.imshow(
        make_grid(torch.cat([x, turned]), nrow=len(pairs)), cmap="gray", interpolation="nearest"
    )
    ax.set_xticks([4.5 + 9 * i for i in range(len(pairs))], [f"{a} / {b}" for a, b in pairs])
    ax.set_yticks([4.5, 13.5], ["upright", "turned"])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    save(fig, path)


def l09_inpainting(path: Path) -> None:
    """Filling in the missing half of digits: replacement, RePaint and DPS."""
    from diffcourse.data import load_digits
    from diffcourse.inverse import dps_sample, repaint_sample
    from diffcourse.plotting import make_grid
    from diffcourse.pretrained import load_digits_model

    plt = pyplot()
    model = load_digits_model()
    images, _ = load_digits("test")
    x0 = images[:8]  # (8, 1, 8, 8)
    mask = torch.zeros_like(x0)
    mask[..., :, :4] = 1.0  # keep the left half
    y = x0 * mask
    abar = model.alphas_cumprod
    rep1 = repaint_sample(model, y, mask, abar, gen(15), num_steps=100, resamplings=1,
                          clip_sample=True)  # fmt: skip
    rep5 = repaint_sample(model, y, mask, abar, gen(16), num_steps=100, resamplings=5,
                          clip_sample=True)  # fmt: skip
    dps = dps_sample(model, y, lambda x: x * mask, x0.shape, abar, gen(17), num_steps=100)
    rows = [x0, y + (1 - mask) * 0.0, rep1, rep5, dps]
    names = ["truth", "observed", "replacement", "RePaint (5)", "DPS"]
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.imshow(make_grid(torch.cat(rows), nrow=8), cmap="gray", interpolation="nearest")
    ax.set_yticks([4.5 + 9 * i for i in range(len(rows))], names)
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    save(fig, path)


def l10_timestep_embedding(path: Path) -> None:
    """The sinusoidal timestep embedding that tells the network the noise level."""
    from diffcourse.models import timestep_embedding

    plt = pyplot()
    t = torch.arange(1000)
    emb = timestep_embedding(t, 64)  # (1000, 64)
    fig, ax = plt.subplots(figsize=(6, 2.6))
    im = ax.imshow(emb.T, aspect="auto", cmap="RdBu", interpolation="nearest")
    ax.set_xlabel("timestep t")
    ax.set_ylabel("embedding dimension")
    fig.colorbar(im, ax=ax)
    save(fig, path)


def l11_custom_data(path: Path) -> None:
    """A small network trained in seconds on a 2D data set, sampled with DDIM."""
    from diffcourse.data import two_moons
    from diffcourse.losses import dsm_loss
    from diffcourse.models import TimeMLP
    from diffcourse.samplers import ddim_sample
    from diffcourse.schedules import make_schedule

    plt = pyplot()
    torch.manual_seed(0)
    data = two_moons(4000, gen(18))  # (4000, 2)
    abar = make_schedule("cosine")
    model = TimeMLP(data_dim=2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = gen(19)
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
    x = ddim_sample(model, (2000, 2), abar, 50, gen(20))
    fig, axes = plt.subplots(1, 2, figsize=(6, 2.8), sharex=True, sharey=True)
    axes[0].scatter(data[:2000, 0], data[:2000, 1], s=1, color="gray")
    axes[0].set_title("training data")
    axes[1].scatter(x[:, 0], x[:, 1], s=1)
    axes[1].set_title("samples (DDIM, 50 steps)")
    for ax in axes:
        ax.set_aspect("equal")
    save(fig, path)
