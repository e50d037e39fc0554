"""The forward (noising) process q(x_t | x_0) and the conversions between predictions.

Index convention: see ``diffcourse.schedules`` (0-based t, abar_{-1} = 1).
Every function takes ``alphas_cumprod`` (abar, shape (T,)) and per-sample
timesteps t (LongTensor (B,)); coefficients are reshaped to (B, 1, ..., 1) and
cast to the data's dtype, so float64 data gives float64-accurate results.

Notation: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, eps ~ N(0, I).
The three things a network may predict are tied together by x_t:
eps (the noise), x_0 (the clean sample) and v = sqrt(abar_t) eps - sqrt(1 - abar_t) x_0.
"""

import torch

from diffcourse.schedules import abar_at, expand_to

__all__ = [
    "PREDICTION_TYPES",
    "normalize_prediction_type",
    "q_sample",
    "velocity",
    "posterior_mean_variance",
    "eps_to_x0",
    "x0_to_eps",
    "v_to_eps",
    "v_to_x0",
    "eps_to_score",
    "score_to_eps",
    "x0_and_eps_from_output",
]

# Our names, with diffusers' spellings accepted as aliases.
PREDICTION_TYPES = {
    "epsilon": "epsilon",
    "x0": "x0",
    "sample": "x0",
    "v": "v",
    "v_prediction": "v",
}


def normalize_prediction_type(prediction_type):
    """'epsilon' | 'x0' | 'v' (diffusers' 'sample' and 'v_prediction' are accepted too)."""
    if prediction_type not in PREDICTION_TYPES:
        raise ValueError(
            f"prediction_type must be one of {sorted(PREDICTION_TYPES)}, got {prediction_type!r}"
        )
    return PREDICTION_TYPES[prediction_type]


def _check_same_shape(name_a, a, name_b, b):
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}"
        )


def _sqrt_abar(alphas_cumprod, t, x):
    """(sqrt(abar_t), sqrt(1 - abar_t)), each (B, 1, ..., 1) in x's dtype.

    Computed in the schedule's precision and only then cast: in float32,
    1 - abar_t cancels badly near t = 0 (abar_0 ~ 0.9999).
    """
    abar = abar_at(alphas_cumprod, t)  # (B,)
    return expand_to(abar.sqrt(), x), expand_to((1 - abar).sqrt(), x)


def q_sample(x0, t, noise, alphas_cumprod):
    """x_t ~ q(x_t | x_0) with the given noise: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps."""
    _check_same_shape("x0", x0, "noise", noise)
    sqrt_abar, sqrt_1m_abar = _sqrt_abar(alphas_cumprod, t, x0)  # (B, 1, ..., 1)
    return sqrt_abar * x0 + sqrt_1m_abar * noise


def velocity(x0, noise, t, alphas_cumprod):
    """The v-prediction target (Salimans & Ho 2022): v = sqrt(abar_t) eps - sqrt(1 - abar_t) x_0."""
    _check_same_shape("x0", x0, "noise", noise)
    sqrt_abar, sqrt_1m_abar = _sqrt_abar(alphas_cumprod, t, x0)
    return sqrt_abar * noise - sqrt_1m_abar * x0


def posterior_mean_variance(x0, x_t, t, s, alphas_cumprod):
    """Mean and variance of q(x_s | x_t, x_0) for any s < t (s = t - 1 is DDPM's posterior).

    With a = abar_t / abar_s (the signal kept from s to t), x_t | x_s ~ N(sqrt(a) x_s, (1-a) I)
    and x_s | x_0 ~ N(sqrt(abar_s) x_0, (1-abar_s) I); Gaussian conditioning gives

        mean = [sqrt(abar_s) (1 - a) x_0 + sqrt(a) (1 - abar_s) x_t] / (1 - abar_t)
        var  = (1 - abar_s) (1 - a) / (1 - abar_t)

    s = -1 (abar = 1) gives mean x_0 and variance 0. The variance is returned with
    shape (B, 1, ..., 1) (or 0-d for int t and s), ready to broadcast.
    """
    _check_same_shape("x0", x0, "x_t", x_t)
    t_, s_ = torch.as_tensor(t), torch.as_tensor(s)
    if torch.any(s_.to(t_.device) >= t_):
        raise ValueError("s must be smaller than t for every sample")
    abar_t = abar_at(alphas_cumprod, t)  # (B,)
    abar_s = abar_at(alphas_cumprod, s)
    a = abar_t / abar_s  # the signal kept from s to t
    coef_x0 = abar_s.sqrt() * (1 - a) / (1 - abar_t)
    coef_xt = a.sqrt() * (1 - abar_s) / (1 - abar_t)
    var = (1 - abar_s) * (1 - a) / (1 - abar_t)
    mean = expand_to(coef_x0, x_t) * x0 + expand_to(coef_xt, x_t) * x_t
    return mean, expand_to(var, x_t)


def eps_to_x0(eps, x_t, t, alphas_cumprod):
    """x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)."""
    sqrt_abar, sqrt_1m_abar = _sqrt_abar(alphas_cumprod, t, x_t)
    return (x_t - sqrt_1m_abar * eps) / sqrt_abar


def x0_to_eps(x0, x_t, t, alphas_cumprod):
    """eps = (x_t - sqrt(abar_t) x_0) / sqrt(1 - abar_t)."""
    sqrt_abar, sqrt_1m_abar = _sqrt_abar(alphas_cumprod, t, x_t)
    return (x_t - sqrt_abar * x0) / sqrt_1m_abar


def v_to_eps(v, x_t, t, alphas_cumprod):
    """eps = sqrt(abar_t) v + sqrt(1 - abar_t) x_t."""
    sqrt_abar, sqrt_1m_abar = _sqrt_abar(alphas_cumprod, t, x_t)
    return sqrt_abar * v + sqrt_1m_abar * x_t


def v_to_x0(v, x_t, t, alphas_cumprod):
    """x_0 = sqrt(abar_t) x_t - sqrt(1 - abar_t) v."""
    sqrt_abar, sqrt_1m_abar = _sqrt_abar(alphas_cumprod, t, x_t)
    return sqrt_abar * x_t - sqrt_1m_abar * v


def eps_to_score(eps, x_t, t, alphas_cumprod):
    """grad log q_t(x_t) = -eps / sqrt(1 - abar_t) (the noise, rescaled and flipped)."""
    _, sqrt_1m_abar = _sqrt_abar(alphas_cumprod, t, x_t)
    return -eps / sqrt_1m_abar


def score_to_eps(score, x_t, t, alphas_cumprod):
    """eps = -sqrt(1 - abar_t) * score."""
    _, sqrt_1m_abar = _sqrt_abar(alphas_cumprod, t, x_t)
    return -sqrt_1m_abar * score


def x0_and_eps_from_output(model_output, x_t, t, alphas_cumprod, prediction_type="epsilon"):
    """(x0_hat, eps_hat) from a network's output, whatever it predicts."""
    kind = normalize_prediction_type(prediction_type)
    _check_same_shape("model_output", model_output, "x_t", x_t)
    if kind == "epsilon":
        eps = model_output
        x0 = eps_to_x0(eps, x_t, t, alphas_cumprod)
    elif kind == "x0":
        x0 = model_output
        eps = x0_to_eps(x0, x_t, t, alphas_cumprod)
    else:
        x0 = v_to_x0(model_output, x_t, t, alphas_cumprod)
        eps = v_to_eps(model_output, x_t, t, alphas_cumprod)
    return x0, eps
