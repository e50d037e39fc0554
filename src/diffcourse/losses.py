"""The denoising score-matching loss (Ho et al. 2020's "simple" loss and its x0 / v variants).

Index convention: see ``diffcourse.schedules``. t and noise are arguments, not
drawn inside, so the loss is a deterministic function a test can check exactly.
"""

import torch.nn.functional as F

from diffcourse.forward import normalize_prediction_type, q_sample, velocity

__all__ = ["dsm_loss"]


def dsm_loss(model, x0, t, noise, alphas_cumprod, prediction_type="epsilon", labels=None):
    """Mean squared error between the model's prediction at x_t and its target.

    x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise; the target is the noise
    ("epsilon"), the clean data ("x0") or v = sqrt(abar_t) noise - sqrt(1 - abar_t) x0
    ("v"). The mean runs over every element of the batch. The model is called as
    ``model(x_t, t)``, or ``model(x_t, t, labels=labels)`` when labels are given.
    """
    kind = normalize_prediction_type(prediction_type)
    if noise.shape != x0.shape:
        raise ValueError(f"noise must have x0's shape {tuple(x0.shape)}, got {tuple(noise.shape)}")
    x_t = q_sample(x0, t, noise, alphas_cumprod)  # (B, ...)
    pred = model(x_t, t) if labels is None else model(x_t, t, labels=labels)
    if kind == "epsilon":
        target = noise
    elif kind == "x0":
        target = x0
    else:
        target = velocity(x0, noise, t, alphas_cumprod)
    if pred.shape != target.shape:
        raise ValueError(
            f"the model returned shape {tuple(pred.shape)}, expected {tuple(target.shape)}"
        )
    return F.mse_loss(pred, target)
