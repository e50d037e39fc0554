"""Noise schedules and timestep grids.

Index convention (the one source of truth for the whole library)
-----------------------------------------------------------------
Time is discrete and 0-based: t in {0, ..., T-1}.

- ``betas[t]`` is the variance added by the forward step x_{t-1} -> x_t;
- ``alphas[t] = 1 - betas[t]``;
- ``alphas_cumprod[t] = prod_{s <= t} alphas[s]``, written abar_t, so that
  x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps;
- abar_{-1} := 1 is defined explicitly: "t = -1" is the clean data x_0 itself.
  Never write ``alphas_cumprod[t - 1]`` at t = 0: Python reads index -1 as the
  LAST entry, abar_{T-1}, without complaint. Use :func:`abar_at`, which knows
  about t = -1.
- sigma_t = sqrt((1 - abar_t) / abar_t) is the noise level of the rescaled
  variable y_t = x_t / sqrt(abar_t) = x_0 + sigma_t eps (see ``ode.py``).

Samplers run on a descending grid of timesteps from :func:`timesteps`; the step
after the last grid point goes to t = -1 (abar = 1). Timesteps passed to any
function are a LongTensor of shape (B,), one value per sample; a Python int is
accepted where it means "the same t for every sample".

Schedules are built in float64 by default: cast at the point of use, never here.
"""

import math

import torch

__all__ = [
    "linear_betas",
    "scaled_linear_betas",
    "cosine_betas",
    "alphas_cumprod_from_betas",
    "sigmas_from_alphas_cumprod",
    "abar_at",
    "expand_to",
    "make_schedule",
    "timesteps",
    "SCHEDULES",
    "SPACINGS",
]

SCHEDULES = ("linear", "scaled_linear", "cosine")
SPACINGS = ("leading", "trailing", "linspace")


def _check_T(T):
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T must be a positive int, got {T!r}")


def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    """DDPM's schedule (Ho et al. 2020): betas evenly spaced from beta_start to beta_end."""
    _check_T(T)
    return torch.linspace(beta_start, beta_end, T, dtype=dtype)  # (T,)


def scaled_linear_betas(T=1000, beta_start=0.00085, beta_end=0.012, dtype=torch.float64):
    """Stable Diffusion's schedule: sqrt(beta) evenly spaced, then squared."""
    _check_T(T)
    return torch.linspace(beta_start**0.5, beta_end**0.5, T, dtype=dtype) ** 2  # (T,)


def cosine_betas(T=1000, s=0.008, max_beta=0.999, dtype=torch.float64):
    """Nichol & Dhariwal (2021): abar(u) = cos^2((u + s) / (1 + s) * pi / 2) for u in [0, 1].

    beta_t = 1 - abar((t+1)/T) / abar(t/T), clipped at max_beta, because the last
    ratio goes to 0 as abar(1) -> 0 (so beta would reach 1 and x_T carry no signal
    of x_{T-1} at all).
    """
    _check_T(T)
    u = torch.arange(T + 1, dtype=torch.float64) / T  # (T+1,)
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2  # (T+1,) unnormalised abar
    betas = 1 - f[1:] / f[:-1]  # (T,)
    return betas.clamp(max=max_beta).to(dtype)


def alphas_cumprod_from_betas(betas):
    """abar_t = prod_{s <= t} (1 - beta_s)."""
    if not torch.is_tensor(betas) or betas.ndim != 1:
        raise ValueError("betas must be a 1-D tensor of shape (T,)")
    if torch.any(betas <= 0) or torch.any(betas >= 1):
        raise ValueError("betas must lie strictly between 0 and 1")
    return torch.cumprod(1 - betas, dim=0)  # (T,)


def sigmas_from_alphas_cumprod(alphas_cumprod):
    """sigma_t = sqrt((1 - abar_t) / abar_t): the noise level of y_t = x_t / sqrt(abar_t)."""
    return ((1 - alphas_cumprod) / alphas_cumprod).sqrt()


def abar_at(alphas_cumprod, t):
    """abar_t for every entry of ``t``, with abar_{-1} := 1.

    ``t`` is a LongTensor (any shape, usually (B,)) or a Python int, with values in
    {-1, 0, ..., T-1}. The result has t's shape, alphas_cumprod's dtype, and lives
    on t's device when t is a tensor.
    """
    if not torch.is_tensor(alphas_cumprod) or alphas_cumprod.ndim != 1:
        raise ValueError("alphas_cumprod must be a 1-D tensor of shape (T,)")
    T = alphas_cumprod.shape[0]
    if isinstance(t, int) and not isinstance(t, bool):
        if not -1 <= t < T:
            raise ValueError(f"t must lie in [-1, {T - 1}], got {t}")
        return alphas_cumprod[t] if t >= 0 else alphas_cumprod.new_ones(())
    if not torch.is_tensor(t) or t.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"t must be a LongTensor or an int, got {type(t).__name__}")
    t_min, t_max = (int(v) for v in torch.aminmax(t)) if t.numel() else (0, 0)
    if t_min < -1 or t_max >= T:
        raise ValueError(f"t must lie in [-1, {T - 1}], got values from {t_min} to {t_max}")
    t_dev = t.to(device=alphas_cumprod.device, dtype=torch.int64)
    if t_min >= 0:
        return alphas_cumprod[t_dev].to(t.device)
    abar = alphas_cumprod[t_dev.clamp(min=0)]
    abar = torch.where(t_dev >= 0, abar, torch.ones_like(abar))
    return abar.to(t.device)


def expand_to(coef, x):
    """Reshape a per-sample coefficient (B,) to (B, 1, ..., 1) so it broadcasts over x.

    Casts to x's dtype and device. Without the reshape a (B,) coefficient times a
    (B, D) tensor broadcasts along the FEATURE axis, silently, when B == D.
    A 0-d coefficient (one value for the whole batch) is only cast.
    """
    coef = torch.as_tensor(coef).to(dtype=x.dtype, device=x.device)
    if coef.ndim == 0:
        return coef
    if coef.ndim != 1 or coef.shape[0] != x.shape[0]:
        raise ValueError(
            f"a per-sample coefficient must have shape ({x.shape[0]},) to match the batch, "
            f"got {tuple(coef.shape)}"
        )
    return coef.view(-1, *([1] * (x.ndim - 1)))


def make_schedule(name, T=1000):
    """alphas_cumprod (float64, shape (T,)) of a named schedule: linear, scaled_linear, cosine."""
    builders = {
        "linear": linear_betas,
        "scaled_linear": scaled_linear_betas,
        "cosine": cosine_betas,
    }
    if name not in builders:
        raise ValueError(f"name must be one of {SCHEDULES}, got {name!r}")
    return alphas_cumprod_from_betas(builders[name](T))


def timesteps(num_steps, T=1000, spacing="leading"):
    """A descending grid of ``num_steps`` timesteps in {0..T-1}, as diffusers defines them.

    With r = T / num_steps (Lin et al. 2024, "Common diffusion noise schedules and
    sample steps are flawed", Table 2):

    - "leading":  k * floor(r) for k = num_steps-1 .. 0  (never reaches T-1: 980 for 50 of 1000);
    - "trailing": round(T - k r) - 1 for k = 0 .. num_steps-1  (starts at T-1, ends near r-1);
    - "linspace": round(k (T-1) / (num_steps-1)), k = num_steps-1 .. 0  (both ends: T-1 and 0).

    Rounding is half-to-even, as numpy's. The sampler's step after the last entry
    goes to t = -1 (abar = 1).
    """
    _check_T(T)
    if not isinstance(num_steps, int) or isinstance(num_steps, bool) or not 1 <= num_steps <= T:
        raise ValueError(f"num_steps must be an int in [1, T={T}], got {num_steps!r}")
    if spacing == "leading":
        ts = torch.arange(num_steps, dtype=torch.int64) * (T // num_steps)
        return ts.flip(0)
    if spacing == "trailing":
        r = T / num_steps
        # numpy.arange(T, 0, -r) computes T + k * ((T - r) - T); mirror it to round alike.
        step = (T - r) - T
        ts = torch.round(T + torch.arange(num_steps, dtype=torch.float64) * step)
        return ts.to(torch.int64) - 1
    if spacing == "linspace":
        if num_steps == 1:
            return torch.zeros(1, dtype=torch.int64)
        k = torch.arange(num_steps, dtype=torch.float64)
        ts = torch.round(k * ((T - 1) / (num_steps - 1)))
        return ts.to(torch.int64).flip(0)
    raise ValueError(f"spacing must be one of {SPACINGS}, got {spacing!r}")
