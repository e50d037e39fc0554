"""Score distillation sampling (DreamFusion, Poole et al. 2023) on small images and voxels.

Optimise parameters theta of a differentiable renderer x = g(theta) so that its
renders look like samples of the diffusion model. The SDS gradient drops the
network's Jacobian from the gradient of the DSM loss:

    grad_theta = E_{t, eps}[ w(t) (eps_hat(x_t, t, y) - eps) dx/dtheta ],

so one only needs eps_hat (no backpropagation through the network).
"""

import torch

from diffcourse.forward import q_sample
from diffcourse.samplers import make_predict
from diffcourse.schedules import abar_at, expand_to

__all__ = ["sds_grad", "render_occupancy", "sds_optimize"]


def sds_grad(
    model,
    x,
    t,
    noise,
    labels=None,
    guidance_scale=None,
    alphas_cumprod=None,
    weight=None,
    null_label=None,
):
    """w(t) (eps_hat(x_t, t, y) - noise) with x_t = q_sample(x, t, noise); detached, x's shape.

    ``weight``: None for w(t) = 1 - abar_t (DreamFusion's sigma_t^2), a float, a tensor
    (B,), or a callable abar_t (B,) -> (B,). Use it as ``(sds_grad(...) * x).sum().backward()``:
    the surrogate's gradient with respect to x is exactly the SDS gradient.
    """
    if alphas_cumprod is None:
        raise ValueError("alphas_cumprod is required")
    if noise.shape != x.shape:
        raise ValueError(f"noise must have x's shape {tuple(x.shape)}, got {tuple(noise.shape)}")
    predict = make_predict(model, labels, guidance_scale, null_label)
    abar = abar_at(alphas_cumprod, t)  # (B,)
    if weight is None:
        w = 1 - abar
    elif callable(weight):
        w = weight(abar)
    else:
        w = torch.as_tensor(weight, dtype=abar.dtype, device=abar.device)
    with torch.no_grad():
        x_t = q_sample(x.detach(), t, noise, alphas_cumprod)
        eps_hat = predict(x_t, t)
        return expand_to(w, x) * (eps_hat - noise)


def render_occupancy(grid, axis):
    """Render an occupancy grid (values in [0, 1]) along ``axis``: 1 - prod(1 - occupancy).

    A ray is dark (0) when it crosses only empty voxels and bright (1) when any voxel
    on it is full: the probability that at least one voxel blocks it.
    """
    if torch.any(grid < 0) or torch.any(grid > 1):
        raise ValueError("occupancy values must lie in [0, 1]")
    return 1 - torch.prod(1 - grid, dim=axis)


def sds_optimize(
    model,
    params,
    render_fn,
    alphas_cumprod,
    labels=None,
    num_iters=400,
    lr=0.05,
    generator=None,
    guidance_scale=None,
    null_label=None,
    t_range=(0.02, 0.98),
    weight=None,
):
    """Optimise ``params`` (tensors with requires_grad) with Adam on the SDS gradient.

    ``render_fn(params)`` returns images (B, C, H, W) in the model's data range;
    ``labels`` holds one label per rendered image. Each iteration draws t uniformly in
    t_range * T and fresh noise. Returns the list of parameters.
    """
    params = list(params)
    T = alphas_cumprod.shape[0]
    lo, hi = int(t_range[0] * T), int(t_range[1] * T)
    if not 0 <= lo < hi <= T:
        raise ValueError(f"t_range must satisfy 0 <= lo < hi <= 1, got {t_range}")
    opt = torch.optim.Adam(params, lr=lr)
    gen_device = generator.device if generator is not None else "cpu"
    for _ in range(num_iters):
        x = render_fn(params)  # (B, C, H, W)
        B = x.shape[0]
        t = torch.randint(lo, hi, (B,), generator=generator, device=gen_device).to(x.device)
        noise = torch.randn(x.shape, generator=generator, device=gen_device, dtype=x.dtype)
        grad = sds_grad(
            model, x, t, noise.to(x.device), labels, guidance_scale, alphas_cumprod, weight,
            null_label,
        )  # fmt: skip
        opt.zero_grad()
        (grad * x).sum().backward()  # d/dx of the surrogate is the SDS gradient
        opt.step()
    return params
