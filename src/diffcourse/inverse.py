"""Inverse problems with a pretrained diffusion model: inpainting (replacement, RePaint)
and diffusion posterior sampling (DPS, Chung et al. 2023).

Index convention: see ``diffcourse.schedules``. Samplers walk a grid from
``schedules.timesteps`` and step with DDPM's posterior on that grid
(``ddim_step`` with eta = 1), ending at t = -1.

Masks are 1 where the pixel is known (observed) and 0 where it must be generated.
"""

import torch

from diffcourse.forward import q_sample, x0_and_eps_from_output
from diffcourse.samplers import ddim_step, make_predict
from diffcourse.schedules import abar_at, expand_to, timesteps

__all__ = [
    "inpaint_replacement_step",
    "repaint_schedule",
    "repaint_sample",
    "dps_gradient",
    "dps_sample",
]


def _randn_like(x, generator):
    device = generator.device if generator is not None else x.device
    return torch.randn(x.shape, generator=generator, device=device, dtype=x.dtype).to(x.device)


def inpaint_replacement_step(x, x0_known, mask, t, noise, alphas_cumprod):
    """Overwrite the known pixels of x (a sample at timestep t) with the observation noised to t.

    known = sqrt(abar_t) x0_known + sqrt(1 - abar_t) noise; result = mask * known +
    (1 - mask) * x. The observation must be noised to the SAME t as x, or the two
    regions of the image sit at different noise levels. At t = -1 the known pixels
    are x0_known exactly (noise may then be None).
    """
    if x.shape != x0_known.shape:
        raise ValueError(f"x0_known must have x's shape {tuple(x.shape)}, got {x0_known.shape}")
    t = torch.as_tensor(t, device=x.device)
    t = t.expand(x.shape[0]) if t.ndim == 0 else t
    if noise is None:
        if torch.any(t >= 0):
            raise ValueError("noise is required unless t == -1")
        noise = torch.zeros_like(x)
    known = q_sample(x0_known, t, noise, alphas_cumprod)
    mask = mask.to(x)
    return mask * known + (1 - mask) * x


def repaint_schedule(num_steps, jump_length=10, resamplings=1):
    """Positions (indices into the grid of num_steps timesteps, then num_steps for t = -1)
    visited by RePaint (Lugmayr et al. 2022).

    Go down one grid step at a time; every ``jump_length`` steps, jump back up
    ``jump_length`` steps and come down again, ``resamplings - 1`` times per jump point.
    resamplings = 1 is plain replacement inpainting.
    """
    if jump_length < 1 or resamplings < 1:
        raise ValueError("jump_length and resamplings must be at least 1")
    path, i, jumps = [0], 0, {}
    while i < num_steps:
        i += 1
        path.append(i)
        if i % jump_length == 0 and i < num_steps and jumps.get(i, 0) < resamplings - 1:
            jumps[i] = jumps.get(i, 0) + 1
            for _ in range(jump_length):
                i -= 1
                path.append(i)
    return path


@torch.no_grad()
def repaint_sample(
    model,
    x0_known,
    mask,
    alphas_cumprod,
    generator=None,
    num_steps=100,
    jump_length=10,
    resamplings=1,
    labels=None,
    guidance_scale=None,
    null_label=None,
    clip_sample=False,
    clip_range=1.0,
    prediction_type="epsilon",
    spacing="leading",
    predict=None,
):
    """Inpaint x0_known where mask == 0 by RePaint (resamplings = 1: plain replacement).

    Down a step: the model's DDPM step for the whole image, then the known pixels are
    replaced by the observation noised to the new timestep. Up a step (a jump back):
    re-noise the whole image with q(x_t | x_s) = N(sqrt(abar_t / abar_s) x_s,
    (1 - abar_t / abar_s) I), which lets the generated region harmonise with the known one.
    """
    T = alphas_cumprod.shape[0]
    predict = predict or make_predict(model, labels, guidance_scale, null_label)
    grid = timesteps(num_steps, T, spacing).tolist() + [-1]  # grid[num_steps] = -1
    B = x0_known.shape[0]
    x = _randn_like(x0_known, generator)
    x = inpaint_replacement_step(
        x, x0_known, mask, grid[0], _randn_like(x, generator), alphas_cumprod
    )
    path = repaint_schedule(num_steps, jump_length, resamplings)
    for pos, nxt in zip(path[:-1], path[1:], strict=True):
        t = torch.full((B,), grid[pos], dtype=torch.int64, device=x.device)
        t_next = torch.full((B,), grid[nxt], dtype=torch.int64, device=x.device)
        if nxt > pos:  # down: denoise one grid step, then re-impose the observation
            out = predict(x, t)
            x = ddim_step(
                out, t, t_next, x, alphas_cumprod, 1.0, _randn_like(x, generator),
                prediction_type, clip_sample, clip_range,
            )  # fmt: skip
            noise = _randn_like(x, generator) if grid[nxt] >= 0 else None
            x = inpaint_replacement_step(x, x0_known, mask, t_next, noise, alphas_cumprod)
        else:  # up: forward-noise from t to the higher t_next
            a = abar_at(alphas_cumprod, t_next) / abar_at(alphas_cumprod, t)  # (B,)
            x = expand_to(a.sqrt(), x) * x + expand_to((1 - a).sqrt(), x) * _randn_like(
                x, generator
            )
    return x


def dps_gradient(predict, x_t, t, y, operator, alphas_cumprod, prediction_type="epsilon"):
    """grad_{x_t} ||y - A(x0_hat(x_t))|| per sample, through the model, and the model output.

    ``predict(x_t, t)`` is the (differentiable) model; ``operator`` is the linear
    measurement A as a callable on images. The norm is summed over the batch before
    differentiating, which gives each sample its own gradient. Returns
    (gradient, model_output.detach(), residual norms (B,)).
    """
    with torch.enable_grad():
        x = x_t.detach().requires_grad_(True)
        out = predict(x, t)
        x0_hat, _ = x0_and_eps_from_output(out, x, t, alphas_cumprod, prediction_type)
        residual = (y - operator(x0_hat)).flatten(1)  # (B, M)
        norms = residual.norm(dim=1)  # (B,)
        (grad,) = torch.autograd.grad(norms.sum(), x)
    return grad, out.detach(), norms.detach()


def dps_sample(
    model,
    y,
    operator,
    shape,
    alphas_cumprod,
    generator=None,
    num_steps=100,
    zeta=1.0,
    labels=None,
    guidance_scale=None,
    null_label=None,
    prediction_type="epsilon",
    spacing="leading",
    predict=None,
    device=None,
    dtype=torch.float32,
):
    """Diffusion posterior sampling (Chung et al. 2023, Algorithm 1) for y = A x0 + noise.

    Each step: the DDPM step from x_t, then a step of size ``zeta`` down the gradient
    of ||y - A(x0_hat(x_t))|| with respect to x_t, taken through the model.
    """
    T = alphas_cumprod.shape[0]
    predict = predict or make_predict(model, labels, guidance_scale, null_label)
    if device is None:
        params = list(model.parameters()) if isinstance(model, torch.nn.Module) else []
        device = params[0].device if params else y.device
    gen_device = generator.device if generator is not None else device
    x = torch.randn(shape, generator=generator, device=gen_device, dtype=dtype).to(device)
    grid = timesteps(num_steps, T, spacing).tolist() + [-1]
    B = x.shape[0]
    for step, prev in zip(grid[:-1], grid[1:], strict=True):
        t = torch.full((B,), step, dtype=torch.int64, device=x.device)
        t_prev = torch.full((B,), prev, dtype=torch.int64, device=x.device)
        grad, out, _ = dps_gradient(predict, x, t, y, operator, alphas_cumprod, prediction_type)
        with torch.no_grad():
            x = ddim_step(out, t, t_prev, x, alphas_cumprod, 1.0, _randn_like(x, generator),
                          prediction_type)  # fmt: skip
            x = x - zeta * grad
    return x
