"""Exact scores and denoisers: a Gaussian mixture under VP noising, and a finite data set.

If x_0 ~ sum_k w_k N(mu_k, Sigma_k) and x_t = sqrt(abar) x_0 + sqrt(1 - abar) eps, then
x_t is again a mixture: sum_k w_k N(sqrt(abar) mu_k, abar Sigma_k + (1 - abar) I). Its
score is known in closed form, which makes it the ideal "perfect network" for testing
samplers. Everything is computed with log-densities and log-sum-exp, so it stays
finite far from every mode, where each density underflows to 0.

``abar_t`` arguments are a float, a 0-d tensor, or a tensor (B,) of per-sample values
(use ``schedules.abar_at`` to get them from timesteps).
"""

import math
from dataclasses import dataclass

import torch

__all__ = [
    "GaussianMixture",
    "gmm_noised_log_prob",
    "gmm_noised_score",
    "ideal_denoiser",
    "tweedie_x0",
]


@dataclass
class GaussianMixture:
    """sum_k weights[k] N(means[k], covs[k]); means (K, D), covs (K, D, D), weights (K,).

    Weights are normalised to sum to 1.
    """

    means: torch.Tensor
    covs: torch.Tensor
    weights: torch.Tensor

    def __post_init__(self):
        if self.means.ndim != 2:
            raise ValueError(f"means must have shape (K, D), got {tuple(self.means.shape)}")
        K, D = self.means.shape
        if self.covs.shape != (K, D, D):
            raise ValueError(f"covs must have shape ({K}, {D}, {D}), got {tuple(self.covs.shape)}")
        if self.weights.shape != (K,) or torch.any(self.weights <= 0):
            raise ValueError(f"weights must be positive with shape ({K},)")
        self.weights = self.weights / self.weights.sum()

    @classmethod
    def isotropic(cls, means, std, weights=None):
        """Components N(means[k], std^2 I), equal weights unless given."""
        K, D = means.shape
        eye = torch.eye(D, dtype=means.dtype, device=means.device)
        covs = (torch.as_tensor(std, dtype=means.dtype) ** 2 * eye).expand(K, D, D).clone()
        if weights is None:
            weights = torch.ones(K, dtype=means.dtype, device=means.device)
        return cls(means, covs, weights)

    @classmethod
    def ring(cls, num_modes=8, radius=4.0, std=0.5, dtype=torch.float64):
        """num_modes equal isotropic modes on a circle: the classic 2-D toy target."""
        angle = torch.arange(num_modes, dtype=dtype) * (2 * math.pi / num_modes)
        means = radius * torch.stack([angle.cos(), angle.sin()], dim=1)  # (K, 2)
        return cls.isotropic(means, std)

    @property
    def dim(self):
        return self.means.shape[1]

    def sample(self, n, generator=None):
        """n samples (n, D): a component by weight, then mu_k + L_k z with L_k L_k^T = Sigma_k."""
        device = generator.device if generator is not None else self.means.device
        k = torch.multinomial(self.weights.to(device), n, replacement=True, generator=generator)
        z = torch.randn(n, self.dim, generator=generator, device=device, dtype=self.means.dtype)
        k, z = k.to(self.means.device), z.to(self.means.device)
        chol = torch.linalg.cholesky(self.covs)  # (K, D, D)
        return self.means[k] + (chol[k] @ z.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, x):
        """log density at x (B, D) -> (B,)."""
        return gmm_noised_log_prob(x, 1.0, self)


def _noised_components(x, abar_t, mixture):
    """Per-sample, per-component quantities of the noised mixture.

    Returns C_k^{-1} (x - sqrt(abar) mu_k) (B, K, D), with C_k = abar Sigma_k + (1 - abar) I,
    and log w_k + log N(x; sqrt(abar) mu_k, C_k) (B, K).
    """
    if x.ndim != 2 or x.shape[1] != mixture.dim:
        raise ValueError(f"x must have shape (B, {mixture.dim}), got {tuple(x.shape)}")
    a = torch.as_tensor(abar_t, dtype=x.dtype, device=x.device)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.shape not in ((1,), (x.shape[0],)):
        raise ValueError(f"abar_t must be a scalar or have shape ({x.shape[0]},)")
    if torch.any(a <= 0) or torch.any(a > 1):
        raise ValueError("abar_t must lie in (0, 1]")
    if a.shape[0] > 1 and torch.all(a == a[0]):
        a = a[:1]  # one noise level for the batch (a sampler's step): K small matrices only
    means = mixture.means.to(x)  # (K, D)
    covs = mixture.covs.to(x)  # (K, D, D)
    eye = torch.eye(mixture.dim, dtype=x.dtype, device=x.device)
    a4 = a.view(-1, 1, 1, 1)
    C = a4 * covs + (1 - a4) * eye  # (B or 1, K, D, D)
    L = torch.linalg.cholesky(C)
    C_inv = torch.cholesky_inverse(L)  # (B or 1, K, D, D)
    diff = x[:, None, :] - a.sqrt().view(-1, 1, 1) * means  # (B, K, D)
    solved = torch.einsum("...kij,...kj->...ki", C_inv, diff)  # C_k^{-1} diff: (B, K, D)
    maha = (diff * solved).sum(-1)  # (B, K)
    log_det = 2 * torch.diagonal(L, dim1=-2, dim2=-1).log().sum(-1)  # (B or 1, K)
    log_normal = -0.5 * (maha + log_det + mixture.dim * math.log(2 * math.pi))
    log_joint = mixture.weights.to(x).log() + log_normal  # (B, K)
    return solved, log_joint


def gmm_noised_log_prob(x, abar_t, mixture):
    """log q_t(x) for x (B, D) under the noised mixture -> (B,)."""
    _, log_joint = _noised_components(x, abar_t, mixture)
    return torch.logsumexp(log_joint, dim=1)


def gmm_noised_score(x, abar_t, mixture):
    """grad_x log q_t(x) = -sum_k r_k(x) C_k^{-1} (x - sqrt(abar) mu_k), r = softmax(log w + log N).

    x (B, D) -> (B, D). Far from every mode the score is the nearest component's.
    """
    solved, log_joint = _noised_components(x, abar_t, mixture)
    resp = torch.softmax(log_joint, dim=1)  # (B, K)
    return -(resp.unsqueeze(-1) * solved).sum(dim=1)


def _per_sample(abar_t, x):
    a = torch.as_tensor(abar_t, dtype=x.dtype, device=x.device)
    if a.ndim == 1:
        if a.shape[0] != x.shape[0]:
            raise ValueError(f"abar_t must be a scalar or have shape ({x.shape[0]},)")
        a = a.view(-1, *([1] * (x.ndim - 1)))
    return a


def tweedie_x0(x_t, score, abar_t):
    """Tweedie's formula: E[x_0 | x_t] = (x_t + (1 - abar) * score) / sqrt(abar)."""
    if score.shape != x_t.shape:
        raise ValueError(
            f"score must have x_t's shape {tuple(x_t.shape)}, got {tuple(score.shape)}"
        )
    a = _per_sample(abar_t, x_t)
    return (x_t + (1 - a) * score) / a.sqrt()


def ideal_denoiser(x_t, abar_t, data):
    """E[x_0 | x_t] when x_0 is uniform over a finite data set (N, *S): a softmax average.

    The weight of data point x_i is proportional to N(x_t; sqrt(abar) x_i, (1 - abar) I),
    i.e. softmax_i(-||x_t - sqrt(abar) x_i||^2 / (2 (1 - abar))). This is the denoiser a
    network that memorises its training set converges to.
    """
    if data.shape[1:] != x_t.shape[1:]:
        raise ValueError(f"data must have shape (N, {tuple(x_t.shape[1:])}), got {data.shape}")
    a = torch.as_tensor(abar_t, dtype=x_t.dtype, device=x_t.device)
    if torch.any(a <= 0) or torch.any(a >= 1):
        raise ValueError("abar_t must lie in (0, 1)")
    a = a.reshape(-1, 1)  # (B or 1, 1)
    x = x_t.flatten(1)  # (B, D)
    d = data.flatten(1).to(x)  # (N, D)
    # -||x - s d_i||^2 / (2 (1 - a)) up to a per-row constant (the softmax ignores it).
    s = a.sqrt()
    logits = (s * (x @ d.T) - 0.5 * a * (d**2).sum(1)) / (1 - a)  # (B, N)
    weights = torch.softmax(logits, dim=1)
    return (weights @ d).view_as(x_t)
