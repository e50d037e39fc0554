"""Guidance: classifier-free (Ho & Salimans 2022) and classifier guidance (Dhariwal & Nichol 2021).

Index convention: see ``diffcourse.schedules``.
"""

import torch

from diffcourse.schedules import abar_at, expand_to

__all__ = ["cfg_prediction", "classifier_guidance"]


def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    """Classifier-free guided prediction: eps = eps_u + w (eps_c - eps_u).

    w = 1 is the plain conditional prediction, w = 0 the unconditional one, w > 1
    pushes further toward the class. The unconditional prediction is the model's
    output for the null label (by convention ``model.num_classes``).
    """
    B = x_t.shape[0]
    t = torch.as_tensor(t, device=x_t.device)
    if t.ndim == 0:
        t = t.expand(B)
    labels = torch.as_tensor(labels, device=x_t.device)
    if labels.ndim == 0:
        labels = labels.expand(B)
    if labels.shape != (B,) or t.shape != (B,):
        raise ValueError(f"labels and t must have shape ({B},), got {labels.shape} and {t.shape}")
    null = torch.full_like(labels, int(null_label))
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), labels=torch.cat([labels, null]))
    eps_c, eps_u = out[:B], out[B:]  # (B, ...) each
    return eps_u + guidance_scale * (eps_c - eps_u)


def classifier_guidance(eps, x_t, t, grad_log_p_y, alphas_cumprod, scale):
    """Shift eps along a classifier's gradient: eps - scale sqrt(1 - abar_t) grad log p(y | x_t).

    Since eps = -sqrt(1 - abar_t) * score, this adds scale * grad log p(y | x_t) to
    the score. ``grad_log_p_y`` is the gradient (a tensor shaped like x_t) or a
    callable ``(x_t, t) -> gradient``.
    """
    grad = grad_log_p_y(x_t, t) if callable(grad_log_p_y) else grad_log_p_y
    if grad.shape != x_t.shape:
        raise ValueError(f"grad_log_p_y must have x_t's shape {tuple(x_t.shape)}, got {grad.shape}")
    abar = expand_to(abar_at(alphas_cumprod, t), x_t)  # (B, 1, ..., 1)
    return eps - scale * (1 - abar).sqrt() * grad
