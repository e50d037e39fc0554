"""Exact mixture score, log density, Tweedie and the ideal denoiser against independent oracles."""

import pytest
import torch
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal

from diffcourse.scores import (
    GaussianMixture,
    gmm_noised_log_prob,
    gmm_noised_score,
    ideal_denoiser,
    tweedie_x0,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _anisotropic_mixture():
    """Three anisotropic, correlated, unequally weighted components in 2-D."""
    means = torch.tensor([[-3.0, 1.0], [2.0, 2.5], [0.5, -3.0]], dtype=torch.float64)
    covs = torch.tensor(
        [[[1.0, 0.6], [0.6, 0.5]], [[0.3, -0.1], [-0.1, 2.0]], [[0.05, 0.0], [0.0, 0.8]]],
        dtype=torch.float64,
    )
    return GaussianMixture(means, covs, torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64))


def _torch_noised(mix, a):
    """The noised mixture built with torch.distributions (the oracle)."""
    eye = torch.eye(mix.dim, dtype=torch.float64)
    comps = MultivariateNormal(a**0.5 * mix.means, covariance_matrix=a * mix.covs + (1 - a) * eye)
    return MixtureSameFamily(Categorical(probs=mix.weights), comps)


@pytest.mark.parametrize("a", [0.999, 0.5, 0.02])
def test_score_and_log_prob_equal_autograd_of_the_exact_density(randn, a):
    mix = _anisotropic_mixture()
    x = (randn(64, 2, seed=1) * 3).requires_grad_(True)
    oracle = _torch_noised(mix, torch.tensor(a, dtype=torch.float64))
    log_p = oracle.log_prob(x)
    (grad,) = torch.autograd.grad(log_p.sum(), x)
    torch.testing.assert_close(gmm_noised_score(x.detach(), a, mix), grad, rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(
        gmm_noised_log_prob(x.detach(), a, mix), log_p.detach(), rtol=1e-10, atol=1e-10
    )


def test_per_sample_noise_levels(randn):
    mix = _anisotropic_mixture()
    x = randn(4, 2, seed=2)
    a = torch.tensor([0.9, 0.5, 0.1, 0.01], dtype=torch.float64)
    batched = gmm_noised_score(x, a, mix)
    for b in range(4):
        torch.testing.assert_close(
            batched[b], gmm_noised_score(x[b : b + 1], a[b], mix)[0], rtol=1e-12, atol=0
        )


def test_score_is_finite_far_from_every_mode():
    mix = _anisotropic_mixture()
    x = torch.tensor([[40.0, -40.0], [-300.0, 500.0]], dtype=torch.float64)
    for a in (0.999, 0.5):
        score = gmm_noised_score(x, a, mix)
        assert torch.isfinite(score).all() and torch.isfinite(gmm_noised_log_prob(x, a, mix)).all()
        # Far away the score points back toward the data (inward).
        assert (score * x).sum(1).lt(0).all()
    # At (40, -40) with a = 0.999 the nearest component in Mahalanobis terms dominates:
    # compare with autograd of the oracle, which also uses log-sum-exp.
    xg = x[:1].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(
        _torch_noised(mix, torch.tensor(0.999, dtype=torch.float64)).log_prob(xg).sum(), xg
    )
    torch.testing.assert_close(gmm_noised_score(x[:1], 0.999, mix), grad, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("a", [0.9, 0.3])
def test_tweedie_equals_per_component_gaussian_conditioning(randn, a):
    # E[x0 | x_t] = sum_k r_k(x_t) [mu_k + sqrt(a) Sigma_k C_k^{-1} (x_t - sqrt(a) mu_k)].
    mix = _anisotropic_mixture()
    x = randn(32, 2, seed=3) * 2
    eye = torch.eye(2, dtype=torch.float64)
    C = a * mix.covs + (1 - a) * eye  # (K, 2, 2)
    log_r = torch.stack(
        [
            MultivariateNormal(a**0.5 * mix.means[k], C[k]).log_prob(x) + mix.weights[k].log()
            for k in range(3)
        ],
        dim=1,
    )
    r = torch.softmax(log_r, dim=1)  # (B, K)
    post = torch.stack(
        [
            mix.means[k]
            + a**0.5 * (mix.covs[k] @ torch.linalg.solve(C[k], (x - a**0.5 * mix.means[k]).T)).T
            for k in range(3)
        ],
        dim=1,
    )  # (B, K, 2)
    expected = (r.unsqueeze(-1) * post).sum(1)
    got = tweedie_x0(x, gmm_noised_score(x, a, mix), a)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_sample_moments_and_log_prob():
    mix = _anisotropic_mixture()
    x = mix.sample(200_000, torch.Generator().manual_seed(0))
    mean = (mix.weights[:, None] * mix.means).sum(0)
    second = (
        mix.weights[:, None, None] * (mix.covs + mix.means[:, :, None] * mix.means[:, None, :])
    ).sum(0)
    cov = second - torch.outer(mean, mean)
    torch.testing.assert_close(x.mean(0), mean, rtol=0, atol=0.02)
    torch.testing.assert_close(torch.cov(x.T), cov, rtol=0, atol=0.05)
    oracle = _torch_noised(mix, torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(
        mix.log_prob(x[:100]), oracle.log_prob(x[:100]), rtol=1e-10, atol=1e-10
    )


def test_mixture_validation_and_ring():
    ring = GaussianMixture.ring(8, radius=4.0, std=0.5)
    assert ring.means.shape == (8, 2)
    torch.testing.assert_close(ring.means.norm(dim=1), torch.full((8,), 4.0, dtype=torch.float64))
    torch.testing.assert_close(ring.weights.sum(), torch.tensor(1.0, dtype=torch.float64))
    with pytest.raises(ValueError, match="covs"):
        GaussianMixture(torch.zeros(2, 2), torch.zeros(2, 3, 3), torch.ones(2))
    with pytest.raises(ValueError, match="weights"):
        GaussianMixture(torch.zeros(2, 2), torch.eye(2).expand(2, 2, 2), torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="abar_t"):
        gmm_noised_score(torch.zeros(3, 2, dtype=torch.float64), torch.ones(2), ring)


def test_ideal_denoiser_equals_tweedie_of_a_point_mass_mixture(randn):
    data = randn(7, 1, 2, 2, seed=4)
    x = randn(5, 1, 2, 2, seed=5)
    a = torch.tensor([0.9, 0.5, 0.2, 0.05, 0.7], dtype=torch.float64)
    # A mixture of point masses (zero covariance): its noised score is exact and closed form.
    flat = data.flatten(1)
    points = GaussianMixture(
        flat, torch.zeros(7, 4, 4, dtype=torch.float64), torch.ones(7, dtype=torch.float64)
    )
    expected = tweedie_x0(x.flatten(1), gmm_noised_score(x.flatten(1), a, points), a)
    torch.testing.assert_close(
        ideal_denoiser(x, a, data).flatten(1), expected, rtol=1e-9, atol=1e-10
    )


def test_ideal_denoiser_limits(randn):
    data = randn(10, 3, seed=6)
    # Little noise: the posterior mean is the data point x_t came from.
    x = 0.9999**0.5 * data[[3, 7]] + 0.01**0.5 * 0.01 * randn(2, 3, seed=7)
    torch.testing.assert_close(ideal_denoiser(x, 0.9999, data), data[[3, 7]], rtol=0, atol=1e-6)
    # Almost pure noise: the mean of the data set.
    out = ideal_denoiser(randn(2, 3, seed=8), 1e-8, data)
    torch.testing.assert_close(out, data.mean(0).expand(2, 3), rtol=0, atol=1e-3)
