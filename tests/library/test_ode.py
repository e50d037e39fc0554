"""Probability-flow ODE: convergence orders on Gaussian data, and DDIM (eta = 0) == Euler."""

import math

import pytest
import torch

from diffcourse.ode import euler_step, from_y, heun_step, pf_ode_sample, to_y
from diffcourse.samplers import ddim_sample
from diffcourse.schedules import abar_at, sigmas_from_alphas_cumprod, timesteps

pytestmark = pytest.mark.usefixtures("one_thread")

MU, S = 0.7, 0.5  # data x0 ~ N(MU, S^2) in every coordinate


def gaussian_eps(x, sigma):
    """E[eps | y] for y = x0 + sigma eps, x0 ~ N(MU, S^2): sigma (y - MU) / (S^2 + sigma^2)."""
    sigma = sigma.to(x.dtype).view(-1, *([1] * (x.ndim - 1)))
    y = x * (1 + sigma**2).sqrt()
    return sigma * (y - MU) / (S**2 + sigma**2)


def exact_flow(y0, sigma0, sigma1):
    """The exact ODE solution: y - MU scales with sqrt(S^2 + sigma^2)."""
    return MU + (y0 - MU) * math.sqrt((S**2 + sigma1**2) / (S**2 + sigma0**2))


def _error(method, n, randn):
    sig0, sig1 = 8.0, 0.3
    sigmas = torch.linspace(sig0, sig1, n + 1, dtype=torch.float64)
    y0 = MU + math.sqrt(S**2 + sig0**2) * randn(256, 3, seed=1)
    x = pf_ode_sample(gaussian_eps, from_y(y0, sig0), sigmas, method=method)
    return (to_y(x, sig1) - exact_flow(y0, sig0, sig1)).abs().max().item()


@pytest.mark.parametrize("method, order", [("euler", 1), ("heun", 2)])
def test_convergence_order_on_gaussian_data(randn, method, order):
    errors = [_error(method, n, randn) for n in (16, 32, 64)]
    ratios = [errors[i] / errors[i + 1] for i in range(2)]
    for r in ratios:
        assert 2**order * 0.8 < r < 2**order * 1.25, (errors, ratios)


def test_ddim_eta0_is_euler_in_y_sigma(abar_cosine, randn):
    w = randn(3, 3, seed=2) * 0.3

    def model(x, t, labels=None):  # a fixed nonlinear eps-network
        return torch.tanh(x @ w) * (1 + t.to(x.dtype)[:, None] / 1000)

    x_T = randn(6, 3, seed=3)
    for spacing in ("leading", "trailing", "linspace"):
        ddim = ddim_sample(model, (6, 3), abar_cosine, 25, None, spacing=spacing, x_T=x_T)
        grid = timesteps(25, 1000, spacing)
        euler = pf_ode_sample(model, x_T, grid, "euler", alphas_cumprod=abar_cosine)
        torch.testing.assert_close(ddim, euler, rtol=0, atol=1e-10)


def test_heun_on_a_timestep_grid_beats_euler(abar_cosine, randn):
    # Gaussian data and a timestep grid: Heun is closer to the exact flow than Euler.
    sig = sigmas_from_alphas_cumprod(abar_cosine)

    def eps_t(x, t):
        return gaussian_eps(x, sig[t])

    grid = timesteps(20, 1000, "leading")[:-1]  # stop before t = 0 to compare at a known sigma
    sig0, sig1 = sig[grid[0]].item(), sig[grid[-1]].item()
    y0 = MU + math.sqrt(S**2 + sig0**2) * randn(64, 2, seed=4)
    exact = exact_flow(y0, sig0, sig1)
    errs = {}
    for method in ("euler", "heun"):
        _, traj = pf_ode_sample(
            eps_t,
            from_y(y0, sig0),
            grid,
            method,
            alphas_cumprod=abar_cosine,
            return_trajectory=True,
        )
        errs[method] = (
            (to_y(traj[-2], sig1) - exact).abs().max().item()
        )  # traj[-2]: last grid point
    assert errs["heun"] < errs["euler"] / 3


def test_single_steps(randn):
    x, eps = randn(4, 2, seed=5), randn(4, 2, seed=6)
    sigma = torch.tensor([2.0, 1.0, 0.5, 3.0], dtype=torch.float64)
    nxt = sigma / 2
    y_next = to_y(x, sigma) + (nxt - sigma)[:, None] * eps
    torch.testing.assert_close(
        euler_step(x, eps, sigma, nxt), from_y(y_next, nxt), rtol=0, atol=1e-14
    )
    # Heun with a constant slope is Euler.
    torch.testing.assert_close(
        heun_step(x, eps, sigma, nxt, lambda xp: eps),
        euler_step(x, eps, sigma, nxt),
        rtol=0,
        atol=1e-14,
    )
    torch.testing.assert_close(to_y(x, 2.0), x * math.sqrt(5.0), rtol=0, atol=1e-14)


def test_grid_validation(abar_cosine, randn):
    x = randn(2, 2)
    with pytest.raises(ValueError, match="method"):
        pf_ode_sample(gaussian_eps, x, torch.tensor([2.0, 1.0]), method="rk4")
    with pytest.raises(ValueError, match="decreasing"):
        pf_ode_sample(gaussian_eps, x, torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="alphas_cumprod"):
        pf_ode_sample(gaussian_eps, x, torch.tensor([900, 500]))
    assert abar_at(abar_cosine, -1) == 1.0
