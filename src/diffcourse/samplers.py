"""Ancestral (DDPM) and implicit (DDIM) samplers: single steps and whole loops.

Index convention: see ``diffcourse.schedules``. A step takes the model's output at
x_t and returns the sample at the previous timestep; after the last grid timestep
the sampler steps to t = -1, where abar = 1 and x is the clean sample.

Single steps take their noise as an argument (so they can be compared exactly with
another implementation); whole samplers take a ``torch.Generator``.
"""

import torch

from diffcourse.forward import (
    normalize_prediction_type,
    posterior_mean_variance,
    x0_and_eps_from_output,
)
from diffcourse.guidance import cfg_prediction
from diffcourse.schedules import abar_at, expand_to, timesteps

__all__ = ["ddpm_step", "ddpm_sample", "ddim_step", "ddim_sample", "make_predict"]

VARIANCE_TYPES = ("fixed_small", "fixed_large")


def _as_batch_t(t, x):
    """t as a LongTensor (B,) on x's device (an int means the same t for every sample)."""
    t = torch.as_tensor(t, device=x.device)
    if t.ndim == 0:
        t = t.expand(x.shape[0])
    if t.shape != (x.shape[0],):
        raise ValueError(f"t must have shape ({x.shape[0]},), got {tuple(t.shape)}")
    return t.to(torch.int64)


def ddpm_step(
    model_output,
    t,
    x_t,
    alphas_cumprod,
    noise,
    prediction_type="epsilon",
    variance_type="fixed_small",
    clip_sample=False,
    clip_range=1.0,
):
    """One ancestral step x_t -> x_{t-1} ~ p(x_{t-1} | x_t) (Ho et al. 2020, Algorithm 2).

    The mean is the posterior mean of q(x_{t-1} | x_t, x0_hat). The variance is the
    posterior variance beta~_t = (1 - abar_{t-1}) / (1 - abar_t) * beta_t ("fixed_small")
    or beta_t = 1 - abar_t / abar_{t-1} ("fixed_large"). No noise is added to samples
    whose t is 0: that step returns the mean, the clean estimate.
    """
    if variance_type not in VARIANCE_TYPES:
        raise ValueError(f"variance_type must be one of {VARIANCE_TYPES}, got {variance_type!r}")
    t = _as_batch_t(t, x_t)
    x0, _ = x0_and_eps_from_output(model_output, x_t, t, alphas_cumprod, prediction_type)
    if clip_sample:
        x0 = x0.clamp(-clip_range, clip_range)
    mean, var = posterior_mean_variance(x0, x_t, t, t - 1, alphas_cumprod)  # (B, ...), (B, 1..)
    if variance_type == "fixed_large":
        abar_t = abar_at(alphas_cumprod, t)
        beta_t = 1 - abar_t / abar_at(alphas_cumprod, t - 1)  # (B,)
        var = expand_to(beta_t, x_t)
    std = var.sqrt() * expand_to(t > 0, x_t)  # (B, 1, ..., 1): no noise where t == 0
    if noise is None:
        if torch.any(t > 0):
            raise ValueError("noise is required when some t > 0")
        return mean
    if noise.shape != x_t.shape:
        raise ValueError(
            f"noise must have x_t's shape {tuple(x_t.shape)}, got {tuple(noise.shape)}"
        )
    return mean + std * noise


def ddim_step(
    model_output,
    t,
    t_prev,
    x_t,
    alphas_cumprod,
    eta=0.0,
    noise=None,
    prediction_type="epsilon",
    clip_sample=False,
    clip_range=1.0,
):
    """One DDIM step x_t -> x_{t_prev} (Song et al. 2021, eq. 12), for any t_prev < t.

        x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma^2) eps_hat + sigma * noise
        sigma  = eta * sqrt((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev))

    eta = 0 is deterministic (the probability-flow ODE's Euler step, see ``ode.py``);
    eta = 1 is DDPM's posterior on this (possibly coarse) grid. t_prev = -1 is the
    final step to abar = 1. With clipping, eps_hat is recomputed from the clipped x0.
    """
    kind = normalize_prediction_type(prediction_type)
    if model_output.shape != x_t.shape:
        raise ValueError(f"model_output must have x_t's shape {tuple(x_t.shape)}")
    if isinstance(t, int) and isinstance(t_prev, int):
        # One timestep for the whole batch (the samplers' case): 0-d coefficients, which
        # multiply faster than (B, 1, ..., 1) ones.
        if t_prev >= t:
            raise ValueError("t_prev must be smaller than t")
    else:
        t = _as_batch_t(t, x_t)
        t_prev = _as_batch_t(t_prev, x_t)
        if torch.any(t_prev >= t):
            raise ValueError("t_prev must be smaller than t for every sample")
    abar_t = abar_at(alphas_cumprod, t)  # (B,) or 0-d, in the schedule's precision
    abar_prev = abar_at(alphas_cumprod, t_prev)
    sqrt_a, sqrt_1m_a = expand_to(abar_t.sqrt(), x_t), expand_to((1 - abar_t).sqrt(), x_t)
    # x0_hat and eps_hat from the output: forward.py's conversions, written out here to
    # reuse abar_t (this loop is timed against diffusers' in bench/).
    if kind == "epsilon":
        eps = model_output
        x0 = (x_t - sqrt_1m_a * eps) / sqrt_a
    elif kind == "x0":
        x0 = model_output
        eps = (x_t - sqrt_a * x0) / sqrt_1m_a
    else:
        x0 = sqrt_a * x_t - sqrt_1m_a * model_output
        eps = sqrt_a * model_output + sqrt_1m_a * x_t
    if clip_sample:
        # Recompute eps from the clipped x0, so that (x0, eps) still explain x_t; keeping
        # the network's eps (diffusers' default) lets a huge eps through at high noise.
        x0 = x0.clamp(-clip_range, clip_range)
        eps = (x_t - sqrt_a * x0) / sqrt_1m_a
    if eta == 0:
        return expand_to(abar_prev.sqrt(), x_t) * x0 + expand_to((1 - abar_prev).sqrt(), x_t) * eps
    if noise is None:
        raise ValueError("noise is required when eta > 0")
    if noise.shape != x_t.shape:
        raise ValueError(
            f"noise must have x_t's shape {tuple(x_t.shape)}, got {tuple(noise.shape)}"
        )
    sigma = eta * ((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)).sqrt()
    coef_eps = (1 - abar_prev - sigma**2).clamp(min=0).sqrt()
    x_prev = expand_to(abar_prev.sqrt(), x_t) * x0 + expand_to(coef_eps, x_t) * eps
    return x_prev + expand_to(sigma, x_t) * noise


def make_predict(model, labels=None, guidance_scale=None, null_label=None):
    """A ``predict(x_t, t) -> model output`` callable: the model, or its guided prediction.

    With ``guidance_scale`` set, the classifier-free guided prediction with
    ``null_label`` (default ``model.num_classes``).
    """
    if guidance_scale is None:
        if labels is None:
            return lambda x, t: model(x, t)
        return lambda x, t: model(x, t, labels=labels)
    if labels is None:
        raise ValueError("guidance_scale needs labels")
    if null_label is None:
        null_label = getattr(model, "num_classes", None)
        if null_label is None:
            raise ValueError("null_label is required: the model has no num_classes attribute")
    return lambda x, t: cfg_prediction(model, x, t, labels, guidance_scale, null_label)


def _initial_noise(shape, generator, device, dtype, model):
    if device is None:
        params = list(model.parameters()) if isinstance(model, torch.nn.Module) else []
        device = params[0].device if params else torch.device("cpu")
    gen_device = generator.device if generator is not None else device
    return torch.randn(shape, generator=generator, device=gen_device, dtype=dtype).to(device)


def _noise_like(x, generator):
    gen_device = generator.device if generator is not None else x.device
    return torch.randn(x.shape, generator=generator, device=gen_device, dtype=x.dtype).to(x.device)


@torch.no_grad()
def ddpm_sample(
    model,
    shape,
    alphas_cumprod,
    generator,
    labels=None,
    prediction_type="epsilon",
    variance_type="fixed_small",
    clip_sample=False,
    clip_range=1.0,
    guidance_scale=None,
    null_label=None,
    predict=None,
    x_T=None,
    device=None,
    dtype=torch.float32,
    return_trajectory=False,
):
    """Ancestral sampling through all T steps: x_{T-1} ~ N(0, I), then ddpm_step down to x_0.

    Returns samples of ``shape``; with ``return_trajectory`` also a tensor
    (T + 1, *shape): x_{T-1}, ..., x_0 and the output (trajectory[-1], "x_{-1}").
    ``predict(x_t, t)`` replaces the model (then ``model`` may be None).
    """
    T = alphas_cumprod.shape[0]
    predict = predict or make_predict(model, labels, guidance_scale, null_label)
    x = _initial_noise(shape, generator, device, dtype, model) if x_T is None else x_T
    trajectory = [x] if return_trajectory else None
    for step in range(T - 1, -1, -1):
        t = torch.full((x.shape[0],), step, dtype=torch.int64, device=x.device)  # (B,)
        out = predict(x, t)
        noise = _noise_like(x, generator) if step > 0 else None
        x = ddpm_step(
            out,
            t,
            x,
            alphas_cumprod,
            noise,
            prediction_type,
            variance_type,
            clip_sample,
            clip_range,
        )
        if return_trajectory:
            trajectory.append(x)
    if return_trajectory:
        return x, torch.stack(trajectory)
    return x


@torch.no_grad()
def ddim_sample(
    model,
    shape,
    alphas_cumprod,
    num_steps,
    generator,
    eta=0.0,
    spacing="leading",
    labels=None,
    guidance_scale=None,
    clip_sample=False,
    clip_range=1.0,
    prediction_type="epsilon",
    null_label=None,
    predict=None,
    x_T=None,
    device=None,
    dtype=torch.float32,
    return_trajectory=False,
):
    """DDIM sampling on a grid of ``num_steps`` timesteps (see ``schedules.timesteps``).

    Starts from x_T ~ N(0, I) (or the given ``x_T``) at the grid's first timestep
    and steps to each next grid timestep, then to t = -1. ``predict(x_t, t)``
    replaces the model (guidance or multi-view wrappers drive the sampler this way).
    With ``return_trajectory`` also returns a tensor (num_steps + 1, *shape):
    x at every grid timestep, then the output.
    """
    T = alphas_cumprod.shape[0]
    predict = predict or make_predict(model, labels, guidance_scale, null_label)
    grid = timesteps(num_steps, T, spacing).tolist()  # descending
    x = _initial_noise(shape, generator, device, dtype, model) if x_T is None else x_T
    B = x.shape[0]
    trajectory = [x] if return_trajectory else None
    for i, step in enumerate(grid):
        prev = grid[i + 1] if i + 1 < len(grid) else -1
        t = torch.full((B,), step, dtype=torch.int64, device=x.device)  # (B,)
        out = predict(x, t)
        noise = _noise_like(x, generator) if eta > 0 else None
        x = ddim_step(  # int timesteps: the same for the whole batch
            out, step, prev, x, alphas_cumprod, eta, noise, prediction_type, clip_sample, clip_range
        )
        if return_trajectory:
            trajectory.append(x)
    if return_trajectory:
        return x, torch.stack(trajectory)
    return x
