"""Figures of lectures 12-13: flow matching, reflow and few-step (consistency) models."""

from __future__ import annotations

from pathlib import Path

import torch

from diffcourse_staff.site.gallery.common import mixture_predict
from diffcourse_staff.site.gallery.style import gen, pyplot, save


def three_modes():
    """The 2D target of the flow-matching figures: three Gaussians, exact velocity known."""
    from diffcourse.data import gaussian_mixture_2d

    return gaussian_mixture_2d([[-2.0, 1.5], [2.0, 1.5], [0.0, -2.0]], 0.25)


def _reflow_student(mixture, steps=1000, batch=512):
    """2-rectified flow: a TimeMLP trained by CFM on the exact flow's (x0, noise) pairs."""
    from diffcourse.flow import cfm_loss, gmm_velocity, network_velocity, reflow_pairs
    from diffcourse.models import TimeMLP

    g = gen(40)
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

    g = gen(42)
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

    plt = pyplot()
    mixture = three_modes()
    exact = lambda x, t: gmm_velocity(x, t, mixture)
    g = gen(44)
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
    save(fig, path)


def l12_reflow(path: Path) -> None:
    """One round of reflow: straighter paths and usable one-step samples."""
    from diffcourse.flow import flow_sample, gmm_velocity, straightness

    plt = pyplot()
    mixture = three_modes()
    exact = lambda x, t: gmm_velocity(x, t, mixture)
    student = _reflow_student(mixture)
    z = torch.randn((2000, 2), generator=gen(45))
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
    truth = mixture.sample(2000, gen(46))
    axes[2].scatter(truth[:, 0], truth[:, 1], s=1, color="lightgray", label="data")
    axes[2].scatter(one_student[:, 0], one_student[:, 1], s=2, color="C2",
                    label="2-rectified, 1 step")  # fmt: skip
    axes[2].scatter(one_exact[:, 0], one_exact[:, 1], s=60, marker="*", color="k",
                    label="1-rectified, 1 step")  # fmt: skip
    axes[2].legend(fontsize=7, loc="lower left")
    axes[2].set_title("one Euler step each")
    _square_2d(axes)
    save(fig, path)


def l13_few_step(path: Path) -> None:
    """Sample quality against network evaluations: solvers, reflow and a consistency model."""
    from diffcourse.flow import consistency_sample, flow_sample, gmm_velocity
    from diffcourse.metrics import sliced_wasserstein
    from diffcourse.samplers import ddim_sample
    from diffcourse.schedules import make_schedule

    plt = pyplot()
    mixture = three_modes()
    exact = lambda x, t: gmm_velocity(x, t, mixture)
    reflow = _reflow_student(mixture)
    consistency = _consistency_student(mixture)
    abar = make_schedule("cosine")
    n = 8000
    truth = mixture.sample(n, gen(47))
    z = torch.randn((n, 2), generator=gen(48), dtype=torch.float64)

    def sw(x):
        return sliced_wasserstein(x.double(), truth, generator=gen(49)).item()

    nfes = [1, 2, 4, 8, 16]
    curves = {}
    with torch.no_grad():
        curves["flow, Euler (exact velocity)"] = [(k, sw(flow_sample(exact, z, k))) for k in nfes]
        curves["flow, Heun (exact velocity)"] = [
            (2 * k, sw(flow_sample(exact, z, k, "heun"))) for k in (1, 2, 4, 8)
        ]
        curves["DDIM (exact noise prediction)"] = [
            (k, sw(ddim_sample(None, (n, 2), abar, k, gen(50), spacing="trailing", x_T=z,
                               predict=mixture_predict(mixture, abar), dtype=torch.float64)))
            for k in nfes
        ]  # fmt: skip
        curves["2-rectified flow, Euler"] = [
            (k, sw(flow_sample(reflow, z.float(), k))) for k in nfes
        ]
        curves["consistency model"] = [
            (k, sw(consistency_sample(consistency, z.float(),
                                      [1 - j / k for j in range(1, k)], gen(51))))
            for k in (1, 2, 4, 8)
        ]  # fmt: skip
    # Two samples of the data differ too (mostly in how many points each mode gets): the
    # band is the range of the distance over five fresh data samples, the metric's noise.
    floor = [sw(mixture.sample(n, gen(60 + k))) for k in range(5)]
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
    save(fig, path)
