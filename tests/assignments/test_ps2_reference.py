"""Problem set 2's reference solutions agree with the course library on random inputs.

The reference code is the solution code of the source notebook; the library is
diffcourse.* (the same names and signatures). A library function that does not exist
fails its test, naming it. Randomness: both sides draw from
equally seeded generators in the same order, so samplers must agree exactly.
"""

from __future__ import annotations

import pytest
import torch
from notebook_harness import library, namespace, parse


@pytest.fixture(scope="module")
def ref():
    return namespace(parse("ps2"))


def close(a, b, tol=1e-10):
    assert a.shape == b.shape and a.dtype == b.dtype
    scale = max(1.0, b.abs().max().item())
    return (a - b).abs().max().item() <= tol * scale


def schedule(T=1000):
    return torch.cumprod(1 - torch.linspace(1e-4, 0.02, T, dtype=torch.float64), dim=0)


def random_mixture(g, K=4, D=2):
    GaussianMixture = library("scores", "GaussianMixture")
    A = torch.randn(K, D, D, generator=g, dtype=torch.float64) * 0.5
    covs = A @ A.transpose(1, 2) + 0.05 * torch.eye(D, dtype=torch.float64)
    weights = torch.rand(K, generator=g, dtype=torch.float64) + 0.1
    means = torch.randn(K, D, generator=g, dtype=torch.float64) * 2
    return GaussianMixture(means=means, covs=covs, weights=weights / weights.sum())


def test_gmm_noised_score(ref):
    theirs = library("scores", "gmm_noised_score")
    g = torch.Generator().manual_seed(0)
    for D in (2, 3):
        mix = random_mixture(g, D=D)
        x = torch.randn(64, D, generator=g, dtype=torch.float64) * 3
        x[0] = 40.0  # far from every mode
        abar = torch.rand(64, generator=g, dtype=torch.float64) * 0.98 + 0.01
        abar[1] = 1.0
        assert close(ref["gmm_noised_score"](x, abar, mix), theirs(x, abar, mix), 1e-9)


def test_tweedie_x0(ref):
    theirs = library("scores", "tweedie_x0")
    g = torch.Generator().manual_seed(1)
    for shape in [(8, 2), (4, 1, 3, 3)]:
        x = torch.randn(*shape, generator=g, dtype=torch.float64)
        s = torch.randn(*shape, generator=g, dtype=torch.float64)
        abar = torch.rand(shape[0], generator=g, dtype=torch.float64) * 0.9 + 0.05
        assert close(ref["tweedie_x0"](x, s, abar), theirs(x, s, abar))


def test_langevin_step_and_samplers(ref):
    step = library("langevin", "langevin_step")
    langevin = library("langevin", "langevin")
    annealed = library("langevin", "annealed_langevin")
    g = torch.Generator().manual_seed(2)
    x = torch.randn(16, 2, generator=g, dtype=torch.float64)
    s = torch.randn(16, 2, generator=g, dtype=torch.float64)
    z = torch.randn(16, 2, generator=g, dtype=torch.float64)
    assert close(ref["langevin_step"](x, s, 0.3, z), step(x, s, 0.3, z))

    def score(x):
        return -x / 0.5

    a = ref["langevin"](score, x, 0.05, 30, torch.Generator().manual_seed(3))
    b = langevin(score, x, 0.05, 30, torch.Generator().manual_seed(3))
    assert close(a, b)

    def noised(x, sigma):
        return -x / (0.25 + float(sigma) ** 2)

    levels = torch.tensor([3.0, 1.0, 0.3, 0.1], dtype=torch.float64)
    a = ref["annealed_langevin"](noised, x, levels, 1e-3, 7, torch.Generator().manual_seed(4))
    b = annealed(noised, x, levels, 1e-3, 7, torch.Generator().manual_seed(4))
    assert close(a, b)


def test_euler_and_heun_steps(ref):
    euler = library("ode", "euler_step")
    heun = library("ode", "heun_step")
    g = torch.Generator().manual_seed(5)
    for shape in [(6, 2), (3, 1, 2, 2)]:
        x = torch.randn(*shape, generator=g, dtype=torch.float64)
        eps = torch.randn(*shape, generator=g, dtype=torch.float64)
        sigma = torch.rand(shape[0], generator=g, dtype=torch.float64) * 10 + 0.1
        sigma_next = sigma * torch.rand(shape[0], generator=g, dtype=torch.float64)
        assert close(ref["euler_step"](x, eps, sigma, sigma_next), euler(x, eps, sigma, sigma_next))

        def eps_next_fn(xp):
            return torch.tanh(xp) - 0.3 * xp

        assert close(
            ref["heun_step"](x, eps, sigma, sigma_next, eps_next_fn),
            heun(x, eps, sigma, sigma_next, eps_next_fn),
        )


def test_pf_ode_sample(ref):
    theirs = library("ode", "pf_ode_sample")
    g = torch.Generator().manual_seed(6)
    x_T = torch.randn(32, 2, generator=g, dtype=torch.float64)

    def eps_fn(x, sigma):
        return torch.tanh(x) * (sigma / (1 + sigma)).reshape(-1, 1) + 0.05 * x

    for sigmas in [
        torch.tensor([20.0, 5.0, 1.0, 0.3, 0.05, 0.0], dtype=torch.float64),
        torch.tensor([10.0, 2.0, 0.4, 0.01], dtype=torch.float64),
    ]:
        for method in ("euler", "heun"):
            a = ref["pf_ode_sample"](eps_fn, x_T, sigmas, method)
            b = theirs(eps_fn, x_T, sigmas, method)
            assert close(a, b), method


def test_ddim_step(ref):
    theirs = library("samplers", "ddim_step")
    ac = schedule()
    g = torch.Generator().manual_seed(7)
    t = torch.tensor([999, 500, 37, 5, 1, 0])
    t_prev = torch.tensor([949, 300, 36, -1, 0, -1])
    for shape in [(6, 3), (6, 1, 2, 2)]:
        x = torch.randn(*shape, generator=g, dtype=torch.float64)
        eps = torch.randn(*shape, generator=g, dtype=torch.float64)
        z = torch.randn(*shape, generator=g, dtype=torch.float64)
        for eta in (0.0, 0.5, 1.0):
            a = ref["ddim_step"](eps, t, t_prev, x, ac, eta=eta, noise=z)
            b = theirs(eps, t, t_prev, x, ac, eta=eta, noise=z)
            assert close(a, b, 1e-9), eta


def test_timesteps(ref):
    theirs = library("schedules", "timesteps")
    for spacing in ("leading", "trailing", "linspace"):
        for n, T in [(10, 1000), (50, 1000), (7, 1000), (16, 1000), (9, 200), (3, 100)]:
            assert torch.equal(ref["timesteps"](n, T, spacing), theirs(n, T, spacing)), (
                spacing,
                n,
                T,
            )


def test_ddim_sample(ref):
    theirs = library("samplers", "ddim_sample")
    ac = schedule()

    def model(x, t, labels=None):
        return 0.5 * torch.tanh(x) + 0.1 * (t.to(x.dtype) / 300).cos().reshape(-1, 1)

    for eta, spacing in [(0.0, "leading"), (0.0, "trailing"), (0.5, "linspace")]:
        a = ref["ddim_sample"](
            model, (64, 2), ac, 12, torch.Generator().manual_seed(8), eta=eta, spacing=spacing
        )
        b = theirs(
            model,
            (64, 2),
            ac,
            12,
            torch.Generator().manual_seed(8),
            eta=eta,
            spacing=spacing,
            dtype=torch.float64,
        )
        assert close(a, b, 1e-9), (eta, spacing)


def test_reference_ddim_with_eta_zero_is_euler_in_y_sigma(ref):
    """Question 12, numerically: a DDIM step (eta = 0) equals an Euler step of the ODE."""
    ac = schedule()
    g = torch.Generator().manual_seed(9)
    t = torch.tensor([999, 640, 200, 3])
    t_prev = torch.tensor([900, 100, -1, 2])
    x = torch.randn(4, 2, generator=g, dtype=torch.float64)
    eps = torch.randn(4, 2, generator=g, dtype=torch.float64)

    def sigma_of(t):
        abar = torch.where(t >= 0, ac[t.clamp(min=0)], torch.ones((), dtype=ac.dtype))
        return ((1 - abar) / abar).sqrt()

    a = ref["ddim_step"](eps, t, t_prev, x, ac, eta=0.0)
    b = ref["euler_step"](x, eps, sigma_of(t), sigma_of(t_prev))
    assert close(a, b, 1e-12)
