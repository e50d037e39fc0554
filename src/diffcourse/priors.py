"""Denoisers as priors for linear inverse problems y = A x (+ noise).

A Gaussian denoiser D(y, level) estimates x from y = x + sigma n. A diffusion model is a
family of such denoisers, one per noise level (Tweedie, lecture 4); the methods here use
any denoiser as a plug-in prior (lecture 14):

- RED (Romano, Elad and Milanfar 2017): gradient descent on
  data_fidelity(x) + lam/2 x^T (x - D(x)), whose gradient is data_grad(x) + lam (x - D(x))
  when D is locally homogeneous with a symmetric Jacobian;
- plug-and-play half-quadratic splitting (Zhang et al. 2017, 2021): alternate a data step
  and a denoising step at decreasing noise levels;
- null-space projection inside DDIM (Wang et al. 2023, the noiseless case of DDRM):
  replace the measured part of each x0 estimate by the measurement's, x0 + A^+ (y - A x0).

Operators are callables on batches: ``A(x)`` (B, ...) -> (B, ...), ``A_pinv(y)`` back.
The ``*_sample`` and ``*_solve`` functions take the starting point explicitly.
"""

from __future__ import annotations

import torch

from diffcourse.forward import eps_to_x0, x0_to_eps
from diffcourse.schedules import abar_at, timesteps

__all__ = [
    "denoiser_from_eps",
    "project_measurements",
    "red_solve",
    "pnp_hqs",
    "null_space_ddim",
]


def denoiser_from_eps(predict, alphas_cumprod):
    """D(y, t): the MMSE denoiser of y = x + sigma_t n, sigma_t = sqrt((1 - abar_t) / abar_t).

    y is a noisy image on the data scale; it is the model's input x_t = sqrt(abar_t) y
    seen at timestep t (a LongTensor (B,) or an int), and D returns the model's x0 estimate.
    ``predict(x_t, t)`` is an epsilon-prediction (a model or ``samplers.make_predict``).
    """

    def denoise(y, t):
        t = torch.as_tensor(t, device=y.device)
        t = t.expand(y.shape[0]) if t.ndim == 0 else t
        abar = abar_at(alphas_cumprod, t).to(y)  # (B,)
        x_t = y * abar.sqrt().view(-1, *([1] * (y.ndim - 1)))
        return eps_to_x0(predict(x_t, t), x_t, t, alphas_cumprod)

    return denoise


def project_measurements(x, y, A, A_pinv):
    """x + A^+ (y - A x): the closest point to x (for a row-orthogonal A) with A x = y."""
    return x + A_pinv(y - A(x))


def red_solve(denoise, level, x_init, data_grad, lam, step, num_iters):
    """Regularisation by denoising: x <- x - step (data_grad(x) + lam (x - D(x, level))).

    ``data_grad(x)`` is the gradient of the data term, e.g. A^T (A x - y) / s^2.
    """
    if not step > 0 or not lam >= 0 or num_iters < 1:
        raise ValueError(f"need step > 0, lam >= 0, num_iters >= 1; got {step}, {lam}, {num_iters}")
    x = x_init
    for _ in range(num_iters):
        x = x - step * (data_grad(x) + lam * (x - denoise(x, level)))
    return x


def pnp_hqs(denoise, levels, x_init, data_step):
    """Plug-and-play half-quadratic splitting: for each level, z = D(x, level), x = data_step(z).

    ``data_step(z)`` is the proximal step of the data term (with noiseless measurements,
    the projection ``project_measurements``). Levels usually decrease.
    """
    x = x_init
    for level in levels:
        x = data_step(denoise(x, level))
    return x


def null_space_ddim(predict, y, A, A_pinv, alphas_cumprod, num_steps, x_T, clip_sample=True,
                    spacing="trailing"):  # fmt: skip
    """Deterministic DDIM whose x0 estimate is made consistent with y at every step.

    At each step: eps_hat = predict(x_t, t), x0_hat from it (clipped to [-1, 1] if asked),
    x0_hat <- x0_hat + A^+ (y - A x0_hat), eps_hat recomputed from the corrected x0_hat,
    then the DDIM step (eta = 0). The last step returns the corrected x0_hat, so the
    output satisfies A x = y exactly (up to rounding) for a row-orthogonal A.
    """
    grid = timesteps(num_steps, alphas_cumprod.shape[0], spacing).tolist()
    x = x_T
    batch = x.shape[0]
    for i, step in enumerate(grid):
        prev = grid[i + 1] if i + 1 < len(grid) else -1
        t = torch.full((batch,), step, dtype=torch.int64, device=x.device)
        x0 = eps_to_x0(predict(x, t), x, t, alphas_cumprod)
        if clip_sample:
            x0 = x0.clamp(-1, 1)
        x0 = project_measurements(x0, y, A, A_pinv)
        eps = x0_to_eps(x0, x, t, alphas_cumprod)
        abar_prev = abar_at(alphas_cumprod, torch.full((batch,), prev)).to(x)
        shape = (-1, *([1] * (x.ndim - 1)))
        x = abar_prev.sqrt().view(shape) * x0 + (1 - abar_prev).sqrt().view(shape) * eps
    return x
