"""A linear autoencoder (PCA) for latent diffusion on small data (lecture 15).

Latent diffusion trains the denoiser on z = E(x) instead of x and decodes samples with
D(z). A PCA autoencoder is the optimal *linear* one (Eckart-Young): it keeps the k
directions of largest variance, and its mean squared reconstruction error is the sum of
the discarded variances. Like Stable Diffusion's VAE latents, PCA latents have unequal
scales; ``scale`` divides them by one overall standard deviation so that the data's
latents have unit variance on average, the convention diffusion schedules assume.
"""

from __future__ import annotations

import torch

__all__ = ["PCAAutoencoder"]


class PCAAutoencoder:
    """Fit on data (N, ...) with k components: encode (B, ...) -> (B, k), decode back."""

    def __init__(self, data: torch.Tensor, k: int):
        if data.ndim < 2 or data.shape[0] < 2:
            raise ValueError(f"data must have shape (N, ...) with N >= 2, got {tuple(data.shape)}")
        flat = data.reshape(data.shape[0], -1).double()  # (N, d)
        d = flat.shape[1]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= min(d, flat.shape[0]):
            raise ValueError(f"k must be an int in 1..{min(d, flat.shape[0])}, got {k!r}")
        self.shape = tuple(data.shape[1:])
        self.mean = flat.mean(0)  # (d,)
        _, svals, vh = torch.linalg.svd(flat - self.mean, full_matrices=False)
        self.variances = svals**2 / (flat.shape[0] - 1)  # (min(N, d),) all components
        self.components = vh[:k]  # (k, d), orthonormal rows
        latents = (flat - self.mean) @ self.components.T  # (N, k)
        self.scale = latents.pow(2).mean().sqrt().item()  # one number, as in LDM

    @property
    def k(self) -> int:
        return self.components.shape[0]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Scaled latents (B, k): projections on the components, divided by ``scale``."""
        flat = x.reshape(x.shape[0], -1).to(self.mean)
        return ((flat - self.mean) @ self.components.T / self.scale).to(x.dtype)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (B, ...) from scaled latents (B, k)."""
        flat = (z.to(self.mean) * self.scale) @ self.components + self.mean
        return flat.reshape(z.shape[0], *self.shape).to(z.dtype)

    def expected_error(self) -> float:
        """Mean squared reconstruction error per coordinate predicted by PCA theory."""
        d = self.mean.shape[0]
        return (self.variances[self.k :].sum() / d).item()
