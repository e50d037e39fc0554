"""Figures of lectures 1-5: the forward process, DDPM, scores and Langevin, SDEs and ODEs."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from diffcourse_staff.site.gallery.common import mixture_predict
from diffcourse_staff.site.gallery.style import gen, pyplot, save


def l01_noising_2d(path: Path) -> None:
    """Two data sets dissolving into the same Gaussian under the forward process."""
    from diffcourse.data import swiss_roll, two_moons
    from diffcourse.forward import q_sample
    from diffcourse.schedules import make_schedule

    plt = pyplot()
    abar = make_schedule("cosine")
    steps = [0, 200, 400, 600, 999]
    fig, axes = plt.subplots(2, len(steps), figsize=(9, 3.8), sharex=True, sharey=True)
    for row, (name, x0) in enumerate(
        [("two moons", two_moons(1500, gen(1))), ("swiss roll", swiss_roll(1500, gen(2)))]
    ):
        x0 = x0.double()
        noise = torch.randn(x0.shape, generator=gen(3 + row), dtype=torch.float64)
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
    save(fig, path)


def l02_schedules(path: Path) -> None:
    """abar_t and log-SNR of the three schedules."""
    from diffcourse.schedules import make_schedule

    plt = pyplot()
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
    save(fig, path)


def l02_forward_digits(path: Path) -> None:
    """One digit noised to increasing t under the linear and the cosine schedules."""
    from diffcourse.data import load_digits
    from diffcourse.forward import q_sample
    from diffcourse.plotting import make_grid
    from diffcourse.schedules import make_schedule

    plt = pyplot()
    images, _ = load_digits("test")
    x0 = images[:1].double().expand(8, 1, 8, 8)  # (8, 1, 8, 8)
    steps = torch.tensor([0, 50, 100, 200, 400, 600, 800, 999])
    noise = torch.randn((1, 1, 8, 8), generator=gen(4), dtype=torch.float64).expand(8, 1, 8, 8)
    fig, axes = plt.subplots(2, 1, figsize=(8, 2.6))
    for ax, name in zip(axes, ("linear", "cosine"), strict=True):
        xt = q_sample(x0, steps, noise, make_schedule(name))
        ax.imshow(make_grid(xt, nrow=8), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"{name} schedule, t = " + ", ".join(str(s) for s in steps.tolist()))
    save(fig, path)


def l03_posterior_variance(path: Path) -> None:
    """The two DDPM variance choices, beta_t and the posterior's beta-tilde_t."""
    from diffcourse.forward import posterior_mean_variance
    from diffcourse.schedules import make_schedule

    plt = pyplot()
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
    save(fig, path)


def l03_ddpm_trajectory(path: Path) -> None:
    """Snapshots of DDPM sampling with the exact score of eight Gaussians."""
    from diffcourse.data import eight_gaussians
    from diffcourse.samplers import ddpm_sample
    from diffcourse.schedules import make_schedule

    plt = pyplot()
    mixture = eight_gaussians()
    abar = make_schedule("linear")
    _, traj = ddpm_sample(
        None,
        (800, 2),
        abar,
        gen(5),
        predict=mixture_predict(mixture, abar),
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
    save(fig, path)


def l04_score_field(path: Path) -> None:
    """The score of a noised two-dimensional mixture at three noise levels."""
    from diffcourse.data import gaussian_mixture_2d
    from diffcourse.scores import gmm_noised_score

    plt = pyplot()
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
    save(fig, path)


def l04_langevin(path: Path) -> None:
    """Plain Langevin at the clean score against annealed Langevin, on two far modes."""
    from diffcourse.data import gaussian_mixture_2d
    from diffcourse.langevin import annealed_langevin, langevin
    from diffcourse.scores import GaussianMixture, gmm_noised_score

    plt = pyplot()
    mixture = gaussian_mixture_2d([[-4.0, 0.0], [4.0, 0.0]], 0.5, [0.8, 0.2])
    n = 1000
    x_init = 8 * torch.rand((n, 2), generator=gen(6), dtype=torch.float64) - 4  # uniform box

    def clean_score(x):
        return gmm_noised_score(x, torch.ones(x.shape[0], dtype=x.dtype), mixture)

    def smoothed_score(x, sigma):  # score of the data convolved with N(0, sigma^2 I)
        sigma = float(sigma)
        eye = torch.eye(2, dtype=torch.float64)
        wide = GaussianMixture(mixture.means, mixture.covs + sigma**2 * eye, mixture.weights)
        return gmm_noised_score(x, torch.ones(x.shape[0], dtype=x.dtype), wide)

    plain = langevin(clean_score, x_init, 0.01, 400, gen(7))
    levels = torch.logspace(math.log10(10.0), math.log10(0.05), 10, dtype=torch.float64)
    annealed = annealed_langevin(smoothed_score, x_init, levels, 2e-4, 40, gen(8))
    fig, axes = plt.subplots(1, 2, figsize=(8, 2.6), sharey=True)
    for ax, x, title in (
        (axes[0], plain, "Langevin, clean score"),
        (axes[1], annealed, "annealed"),
    ):
        right = (x[:, 0] > 0).double().mean().item()
        ax.hist(x[:, 0].numpy(), bins=80, range=(-6, 6), density=True)
        ax.set_title(f"{title}: {right:.0%} in the right mode (true 20%)")
        ax.set_xlabel("first coordinate")
    save(fig, path)


def l05_sde_vs_ode(path: Path) -> None:
    """Paths of the reverse SDE (DDPM) and of the probability-flow ODE (DDIM, eta = 0), 1D."""
    from diffcourse.data import gaussian_mixture_2d
    from diffcourse.samplers import ddim_sample, ddpm_sample
    from diffcourse.schedules import make_schedule

    plt = pyplot()
    # A 1D mixture: the first coordinate of a 2D one whose second coordinate we drop.
    mix2 = gaussian_mixture_2d([[-1.5, 0.0], [1.0, 0.0]], 0.25, [0.4, 0.6])
    abar = make_schedule("linear")
    predict2 = mixture_predict(mix2, abar)

    def predict(x_t, t):  # (B, 1) -> (B, 1), second coordinate held at 0
        return predict2(torch.cat([x_t, torch.zeros_like(x_t)], 1), t)[:, :1]

    x_T = torch.randn((24, 1), generator=gen(9), dtype=torch.float64)
    _, sde = ddpm_sample(
        None,
        (24, 1),
        abar,
        gen(10),
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
        gen(11),
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
    save(fig, path)
