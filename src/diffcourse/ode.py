"""The probability-flow ODE in (y, sigma) coordinates (Song et al. 2021; Karras et al. 2022).

Index convention: see ``diffcourse.schedules``.

Rescale x_t by its signal level: y = x_t / sqrt(abar_t) = x_0 + sigma_t eps with
sigma_t = sqrt((1 - abar_t) / abar_t). In these coordinates the probability-flow
ODE is simply

    dy / dsigma = eps_hat(x, sigma),    x = y / sqrt(1 + sigma^2),

so one Euler step from sigma to sigma' is y' = y + (sigma' - sigma) eps_hat, which is
exactly a DDIM step with eta = 0 (``samplers.ddim_step``): DDIM is Euler's method.
Heun's method averages the slopes at both ends (second order).

Every function here takes and returns x in the usual VP coordinates; y is internal.

The grid. ``pf_ode_sample`` integrates over a descending grid given either as
- noise levels sigma (a float tensor, e.g. ending at 0): ``eps_fn(x, sigma)`` is called
  with sigma a float tensor (B,);
- timesteps (a LongTensor from ``schedules.timesteps``, with ``alphas_cumprod``): the
  grid continues to t = -1 (sigma = 0), and ``eps_fn(x, t)`` is called with t a
  LongTensor (B,), so a network can be used as is.
A step that ends at sigma = 0 is an Euler step (Heun would evaluate eps_hat at sigma
= 0, where the network was never trained), as in Karras et al.'s Algorithm 1.
"""

import torch

from diffcourse.schedules import abar_at, expand_to, sigmas_from_alphas_cumprod

__all__ = ["to_y", "from_y", "euler_step", "heun_step", "pf_ode_sample"]

METHODS = ("euler", "heun")


def to_y(x, sigma):
    """y = x / sqrt(abar) = x * sqrt(1 + sigma^2) (since 1 / abar = 1 + sigma^2)."""
    return x * expand_to((1 + torch.as_tensor(sigma, dtype=torch.float64) ** 2).sqrt(), x)


def from_y(y, sigma):
    """x = y * sqrt(abar) = y / sqrt(1 + sigma^2)."""
    return y / expand_to((1 + torch.as_tensor(sigma, dtype=torch.float64) ** 2).sqrt(), y)


def euler_step(x, eps, sigma, sigma_next):
    """One Euler step of dy/dsigma = eps from sigma to sigma_next; x in, x out.

    ``eps`` is eps_hat at (x, sigma); sigma and sigma_next are floats or tensors (B,).
    """
    dsigma = torch.as_tensor(sigma_next, dtype=torch.float64) - torch.as_tensor(
        sigma, dtype=torch.float64
    )
    y_next = to_y(x, sigma) + expand_to(dsigma, x) * eps
    return from_y(y_next, sigma_next)


def heun_step(x, eps, sigma, sigma_next, eps_next_fn):
    """One Heun step: Euler predictor, then the average of the slopes at both ends.

    ``eps`` is eps_hat at (x, sigma); ``eps_next_fn(x_pred)`` returns eps_hat at
    sigma_next for the Euler prediction x_pred.
    """
    x_pred = euler_step(x, eps, sigma, sigma_next)
    eps_next = eps_next_fn(x_pred)
    return euler_step(x, (eps + eps_next) / 2, sigma, sigma_next)


def pf_ode_sample(
    eps_fn,
    x_T,
    sigmas_or_timesteps,
    method="euler",
    alphas_cumprod=None,
    return_trajectory=False,
):
    """Integrate the probability-flow ODE from x_T down a descending grid (see module docstring).

    x_T lives at the grid's first point (in VP coordinates). Returns x at the last
    point (t = -1, i.e. sigma = 0, for a timestep grid); with ``return_trajectory``
    also a tensor (len(grid), *x_T.shape) of x at every grid point after the first.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    grid = torch.as_tensor(sigmas_or_timesteps)
    if grid.ndim != 1 or grid.numel() < 1:
        raise ValueError("sigmas_or_timesteps must be a non-empty 1-D tensor")
    if not torch.is_floating_point(grid):
        if alphas_cumprod is None:
            raise ValueError("alphas_cumprod is required when the grid is made of timesteps")
        keys = torch.cat([grid.to(torch.int64), grid.new_full((1,), -1).to(torch.int64)])
        sigmas = sigmas_from_alphas_cumprod(abar_at(alphas_cumprod, keys.cpu()))
    else:
        keys = grid
        sigmas = grid.to(torch.float64).cpu()
    if len(keys) < 2:
        raise ValueError("the grid needs at least two sigmas")
    if torch.any(sigmas[1:] >= sigmas[:-1]):
        raise ValueError("the grid must be strictly decreasing")
    B = x_T.shape[0]
    x = x_T
    trajectory = []
    for i in range(len(keys) - 1):
        key = keys[i].to(x.device).expand(B)  # (B,) sigma or t
        key_next = keys[i + 1].to(x.device).expand(B)
        sigma, sigma_next = sigmas[i].item(), sigmas[i + 1].item()
        eps = eps_fn(x, key)
        if method == "heun" and sigma_next > 0:
            x = heun_step(x, eps, sigma, sigma_next, lambda xp, k=key_next: eps_fn(xp, k))
        else:
            x = euler_step(x, eps, sigma, sigma_next)
        if return_trajectory:
            trajectory.append(x)
    if return_trajectory:
        return x, torch.stack(trajectory)
    return x
