"""Unadjusted Langevin dynamics and Song & Ermon's annealed version (NCSN, 2019).

x_{k+1} = x_k + h * grad log p(x_k) + sqrt(2 h) * z_k,   z_k ~ N(0, I).

As h -> 0 the chain samples p. With h > 0 and no Metropolis correction it is
biased: on N(0, s^2) its stationary variance is s^2 / (1 - h / (2 s^2)), not s^2.
"""

import torch

__all__ = ["langevin_step", "langevin", "annealed_langevin"]


def _check_step_size(step_size):
    if not step_size > 0:
        raise ValueError(f"step_size must be positive, got {step_size!r}")


def langevin_step(x, score, step_size, noise):
    """One Langevin step with the given score and noise: x + h * score + sqrt(2 h) * noise."""
    _check_step_size(step_size)
    return x + step_size * score + (2 * step_size) ** 0.5 * noise


def _randn_like(x, generator):
    device = generator.device if generator is not None else x.device
    return torch.randn(x.shape, generator=generator, device=device, dtype=x.dtype).to(x.device)


@torch.no_grad()
def langevin(score_fn, x_init, step_size, num_steps, generator=None):
    """Run ``num_steps`` Langevin steps from x_init with ``score_fn(x)`` = grad log p(x)."""
    _check_step_size(step_size)
    x = x_init
    for _ in range(num_steps):
        x = langevin_step(x, score_fn(x), step_size, _randn_like(x, generator))
    return x


@torch.no_grad()
def annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator=None):
    """Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1).

    ``noise_levels`` sigma_1 > ... > sigma_L; ``score_fn(x, sigma)`` is the score of the
    data convolved with N(0, sigma^2 I), called with sigma a Python float. At level i
    the step is h_i = step_size * sigma_i^2 / sigma_L^2, so that the signal-to-noise
    ratio of the update is the same at every level.
    """
    _check_step_size(step_size)
    levels = [float(s) for s in noise_levels]
    if not levels or any(b >= a for a, b in zip(levels, levels[1:], strict=False)):
        raise ValueError("noise_levels must be a non-empty, strictly decreasing sequence")
    sigma_last = levels[-1]
    x = x_init
    for sigma in levels:
        h = step_size * sigma**2 / sigma_last**2
        for _ in range(steps_per_level):
            x = langevin_step(x, score_fn(x, sigma), h, _randn_like(x, generator))
    return x
