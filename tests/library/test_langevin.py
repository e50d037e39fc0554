"""Langevin dynamics: exact update, the biased stationary variance, annealed step sizes."""

import pytest
import torch

from diffcourse.langevin import annealed_langevin, langevin, langevin_step

pytestmark = pytest.mark.usefixtures("one_thread")


def test_langevin_step_formula(randn):
    x, score, z = randn(3, 2, seed=1), randn(3, 2, seed=2), randn(3, 2, seed=3)
    torch.testing.assert_close(langevin_step(x, score, 0.1, z), x + 0.1 * score + 0.2**0.5 * z)
    with pytest.raises(ValueError, match="step_size"):
        langevin_step(x, score, 0.0, z)


@pytest.mark.parametrize("s, h", [(1.0, 0.5), (2.0, 0.4)])
def test_stationary_variance_of_unadjusted_langevin(s, h):
    # On N(0, s^2): x' = (1 - h/s^2) x + sqrt(2h) z, whose stationary variance is
    # s^2 / (1 - h / (2 s^2)); not s^2 (no Metropolis correction), and not the
    # s^2 / (2 - h / s^2) that sqrt(h) noise would give.
    x0 = torch.zeros(40_000, 1, dtype=torch.float64)
    x = langevin(lambda x: -x / s**2, x0, h, 200, torch.Generator().manual_seed(0))
    expected = s**2 / (1 - h / (2 * s**2))
    assert x.var().item() == pytest.approx(expected, rel=0.03)
    assert abs(x.mean().item()) < 0.03 * s


def test_annealed_step_sizes_scale_with_sigma_squared():
    # Zero score: x = sum_i sqrt(2 h_i) z_i, h_i = eps sigma_i^2 / sigma_L^2, noise in draw order.
    levels, eps = [2.0, 1.0, 0.5], 0.01
    seen = []

    def score(x, sigma):
        seen.append(sigma)
        return torch.zeros_like(x)

    x0 = torch.zeros(5, 2, dtype=torch.float64)
    out = annealed_langevin(score, x0, levels, eps, 2, torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(0)
    expected = torch.zeros(5, 2, dtype=torch.float64)
    for sigma in levels:
        h = eps * sigma**2 / levels[-1] ** 2
        for _ in range(2):
            expected += (2 * h) ** 0.5 * torch.randn(5, 2, generator=g, dtype=torch.float64)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-14)
    assert seen == [2.0, 2.0, 1.0, 1.0, 0.5, 0.5]
    with pytest.raises(ValueError, match="decreasing"):
        annealed_langevin(score, x0, [0.5, 1.0], eps, 1)


def test_annealed_langevin_samples_a_gaussian():
    # Data N(0, 1): the score at noise level sigma is -x / (1 + sigma^2).
    levels = torch.logspace(1, -2, 10).tolist()
    x0 = 10 * torch.randn(
        20_000, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    x = annealed_langevin(
        lambda x, s: -x / (1 + s**2), x0, levels, 2e-5, 100, torch.Generator().manual_seed(2)
    )
    assert x.var().item() == pytest.approx(1.0, rel=0.05)
