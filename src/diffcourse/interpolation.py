"""Spherical linear interpolation of noise vectors.

A linear mix of two independent N(0, I) vectors in high dimension has norm
sqrt((1 - a)^2 + a^2) sqrt(d) (0.71 sqrt(d) at a = 1/2), off the shell where
Gaussian noise lives; slerp moves along the great circle and keeps the norm.
"""

import torch

__all__ = ["slerp"]


def slerp(z0, z1, alpha, eps=1e-7):
    """Spherical interpolation between the rows of z0 and z1 (each (B, ...)).

    slerp = sin((1 - a) theta) / sin(theta) z0 + sin(a theta) / sin(theta) z1, with
    theta the angle between z0[b] and z1[b] over all non-batch dims (one angle per
    row). Rows whose sin(theta) < eps (identical or opposite directions) are
    interpolated linearly. ``alpha`` is a float or a tensor (B,).
    """
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape, got {z0.shape} and {z1.shape}")
    B = z0.shape[0]
    a = torch.as_tensor(alpha, dtype=z0.dtype, device=z0.device)
    if a.ndim == 1 and a.shape[0] != B:
        raise ValueError(f"alpha must be a float or have shape ({B},)")
    a = a.reshape(-1, 1) if a.ndim == 1 else a  # (B, 1) or 0-d
    u, v = z0.reshape(B, -1), z1.reshape(B, -1)  # (B, D)
    cos = (u * v).sum(1) / (u.norm(dim=1) * v.norm(dim=1)).clamp(min=torch.finfo(u.dtype).tiny)
    theta = torch.acos(cos.clamp(-1.0, 1.0)).unsqueeze(1)  # (B, 1)
    sin = torch.sin(theta)
    degenerate = sin < eps
    safe_sin = torch.where(degenerate, torch.ones_like(sin), sin)
    w0 = torch.where(degenerate, 1 - a, torch.sin((1 - a) * theta) / safe_sin)
    w1 = torch.where(degenerate, a, torch.sin(a * theta) / safe_sin)
    return (w0 * u + w1 * v).view_as(z0)
