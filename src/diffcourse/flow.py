"""Flow matching on Gaussian probability paths (Lipman et al. 2023; Liu et al. 2023).

Time convention: continuous t in [0, 1], data at t = 0 and noise at t = 1, the same
direction as the diffusion modules (Lipman et al. run time the other way). A path
x_t = alpha_t x_0 + sigma_t eps, eps ~ N(0, I), is named by its coefficients:

- ``"linear"``: alpha_t = 1 - t, sigma_t = t (rectified flow; Stable Diffusion 3);
- ``"cosine"``: alpha_t = cos(pi t / 2), sigma_t = sin(pi t / 2) (variance preserving).

The conditional velocity is d x_t / dt = alpha'_t x_0 + sigma'_t eps. A velocity
field v(x, t) is any callable taking x (B, D...) and t, a float tensor (B,), and
returning a tensor shaped like x; a sample integrates dx/dt = v from t = 1 to t = 0.

Because x_t and v are two independent linear combinations of x_0 and eps (the
determinant alpha_t sigma'_t - sigma_t alpha'_t is 1 for the linear path and pi / 2
for the cosine one), a velocity, a noise, a data and a score prediction at (x_t, t)
determine each other: the ``*_to_*`` conversions below. They divide by sigma_t
(score, x0 -> velocity) or alpha_t (eps -> velocity), so they are undefined at t = 0
or t = 1 respectively.
"""

from __future__ import annotations

import math

import torch

from diffcourse.schedules import expand_to

__all__ = [
    "PATHS",
    "path_coefficients",
    "interpolate",
    "conditional_velocity",
    "cfm_loss",
    "velocity_to_x0",
    "velocity_to_eps",
    "velocity_to_score",
    "x0_to_velocity",
    "eps_to_velocity",
    "score_to_velocity",
    "gmm_velocity",
    "network_velocity",
    "flow_sample",
    "reflow_pairs",
    "straightness",
    "consistency_function",
    "consistency_distillation_loss",
    "consistency_sample",
    "progressive_distillation_target",
    "progressive_distillation_loss",
]

PATHS = ("linear", "cosine")
METHODS = ("euler", "heun")


def _check_path(path: str) -> None:
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}, got {path!r}")


def path_coefficients(t, path: str = "linear"):
    """(alpha_t, sigma_t, alpha'_t, sigma'_t) at times t (a float or float tensor in [0, 1])."""
    _check_path(path)
    t = torch.as_tensor(t)
    if not torch.is_floating_point(t):
        raise ValueError(f"t must be a float time in [0, 1], got dtype {t.dtype}")
    if torch.any(t < 0) or torch.any(t > 1):
        raise ValueError("t must lie in [0, 1]")
    if path == "linear":
        return 1 - t, t, -torch.ones_like(t), torch.ones_like(t)
    half_pi = math.pi / 2
    a, s = torch.cos(half_pi * t), torch.sin(half_pi * t)
    return a, s, -half_pi * s, half_pi * a


def _coefs(t, x, path):
    """The four path coefficients, each shaped to broadcast over x."""
    return tuple(expand_to(c, x) for c in path_coefficients(t, path))


def _check_same_shape(name_a, a, name_b, b):
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")  # fmt: skip


def interpolate(x0, noise, t, path: str = "linear"):
    """The point x_t = alpha_t x0 + sigma_t noise of the conditional path from x0 to noise."""
    _check_same_shape("x0", x0, "noise", noise)
    a, s, _, _ = _coefs(t, x0, path)
    return a * x0 + s * noise


def conditional_velocity(x0, noise, t, path: str = "linear"):
    """d x_t / dt on the conditional path: alpha'_t x0 + sigma'_t noise (linear: noise - x0)."""
    _check_same_shape("x0", x0, "noise", noise)
    _, _, da, ds = _coefs(t, x0, path)
    return da * x0 + ds * noise


def cfm_loss(velocity, x0, noise, t, path: str = "linear"):
    """Conditional flow-matching loss: mean of (v(x_t, t) - conditional velocity)^2.

    ``velocity(x_t, t)`` is evaluated at x_t = interpolate(x0, noise, t); t is a float
    tensor (B,). Its minimiser over all fields is the marginal velocity E[u_t | x_t].
    Pairs (x0, noise) may be independent (flow matching) or coupled (reflow).
    """
    x_t = interpolate(x0, noise, t, path)
    pred = velocity(x_t, t)
    target = conditional_velocity(x0, noise, t, path)
    if pred.shape != target.shape:
        raise ValueError(f"the velocity field returned shape {tuple(pred.shape)}, "
                         f"expected {tuple(target.shape)}")  # fmt: skip
    return torch.mean((pred - target) ** 2)


# --------------------------------------------------------------- conversions


def velocity_to_x0(v, x_t, t, path: str = "linear"):
    """x0_hat = (sigma'_t x_t - sigma_t v) / (alpha_t sigma'_t - sigma_t alpha'_t)."""
    _check_same_shape("v", v, "x_t", x_t)
    a, s, da, ds = _coefs(t, x_t, path)
    return (ds * x_t - s * v) / (a * ds - s * da)


def velocity_to_eps(v, x_t, t, path: str = "linear"):
    """eps_hat = (alpha_t v - alpha'_t x_t) / (alpha_t sigma'_t - sigma_t alpha'_t)."""
    _check_same_shape("v", v, "x_t", x_t)
    a, s, da, ds = _coefs(t, x_t, path)
    return (a * v - da * x_t) / (a * ds - s * da)


def velocity_to_score(v, x_t, t, path: str = "linear"):
    """grad log p_t(x_t) = -eps_hat / sigma_t (undefined at t = 0)."""
    _, s, _, _ = _coefs(t, x_t, path)
    return -velocity_to_eps(v, x_t, t, path) / s


def x0_to_velocity(x0_hat, x_t, t, path: str = "linear"):
    """v = alpha'_t x0_hat + sigma'_t (x_t - alpha_t x0_hat) / sigma_t (undefined at t = 0)."""
    _check_same_shape("x0_hat", x0_hat, "x_t", x_t)
    a, s, da, ds = _coefs(t, x_t, path)
    return da * x0_hat + ds * (x_t - a * x0_hat) / s


def eps_to_velocity(eps_hat, x_t, t, path: str = "linear"):
    """v = alpha'_t (x_t - sigma_t eps_hat) / alpha_t + sigma'_t eps_hat (undefined at t = 1)."""
    _check_same_shape("eps_hat", eps_hat, "x_t", x_t)
    a, s, da, ds = _coefs(t, x_t, path)
    return da * (x_t - s * eps_hat) / a + ds * eps_hat


def score_to_velocity(score, x_t, t, path: str = "linear"):
    """v from the score, through eps_hat = -sigma_t score (undefined at t = 1)."""
    _, s, _, _ = _coefs(t, x_t, path)
    return eps_to_velocity(-s * score, x_t, t, path)


# --------------------------------------------------------------- exact field


def gmm_velocity(x, t, mixture, path: str = "linear"):
    """The exact marginal velocity E[alpha' x0 + sigma' eps | x_t = x] for mixture data.

    Component k gives x_t ~ N(alpha mu_k, C_k), C_k = alpha^2 Sigma_k + sigma^2 I, and the
    posterior means E[x0 | x, k] = mu_k + alpha Sigma_k C_k^{-1} (x - alpha mu_k) and
    E[eps | x, k] = sigma C_k^{-1} (x - alpha mu_k). They are mixed with the posterior
    responsibilities. Finite at both ends of [0, 1] (covariances must be positive
    definite). x (B, D), t float or (B,) -> (B, D).
    """
    if x.ndim != 2 or x.shape[1] != mixture.dim:
        raise ValueError(f"x must have shape (B, {mixture.dim}), got {tuple(x.shape)}")
    t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
    t = t.expand(x.shape[0]) if t.ndim == 0 else t
    a, s, da, ds = (c.view(-1, 1, 1, 1) for c in path_coefficients(t, path))  # (B, 1, 1, 1)
    means, covs = mixture.means.to(x), mixture.covs.to(x)  # (K, D), (K, D, D)
    eye = torch.eye(mixture.dim, dtype=x.dtype, device=x.device)
    C = a**2 * covs + s**2 * eye  # (B, K, D, D)
    L = torch.linalg.cholesky(C)
    diff = x[:, None, :] - a[..., 0] * means  # (B, K, D)
    solved = torch.cholesky_solve(diff.unsqueeze(-1), L).squeeze(-1)  # C^{-1} diff (B, K, D)
    log_det = 2 * torch.diagonal(L, dim1=-2, dim2=-1).log().sum(-1)  # (B, K)
    log_joint = mixture.weights.to(x).log() - 0.5 * ((diff * solved).sum(-1) + log_det)
    resp = torch.softmax(log_joint, dim=1).unsqueeze(-1)  # (B, K, 1)
    x0_k = means + a[..., 0] * torch.einsum("kij,bkj->bki", covs, solved)  # (B, K, D)
    eps_k = s[..., 0] * solved
    x0_hat, eps_hat = (resp * x0_k).sum(1), (resp * eps_k).sum(1)
    return da[:, 0, 0] * x0_hat + ds[:, 0, 0] * eps_hat


def network_velocity(model, num_levels: int = 1000, labels=None):
    """A velocity field from a network that takes integer time levels (the library's models).

    Time t in [0, 1] is passed as the level round(t (num_levels - 1)); train and sample
    through the same wrapper so both see the same levels.
    """

    def velocity(x, t):
        t = torch.as_tensor(t, dtype=torch.float64, device=x.device)
        level = torch.round(t * (num_levels - 1)).long().expand(x.shape[0])
        return model(x, level) if labels is None else model(x, level, labels=labels)

    return velocity


# --------------------------------------------------------------- sampling


def flow_sample(velocity, noise, num_steps: int, method: str = "euler", return_trajectory=False):
    """Integrate dx/dt = v(x, t) from x = noise at t = 1 to t = 0 in num_steps equal steps.

    Euler costs one evaluation per step, Heun (the trapezoid rule on an Euler
    prediction, second order) two. Returns x at t = 0; with ``return_trajectory`` also
    (num_steps + 1, *noise.shape), the start included.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive int, got {num_steps!r}")
    grid = torch.linspace(1.0, 0.0, num_steps + 1, dtype=torch.float64)
    batch = noise.shape[0]
    x = noise
    trajectory = [x]
    for i in range(num_steps):
        t, t_next = grid[i].expand(batch), grid[i + 1].expand(batch)
        dt = (grid[i + 1] - grid[i]).item()  # negative
        v = velocity(x, t)
        if method == "heun":
            v_next = velocity(x + dt * v, t_next)
            v = (v + v_next) / 2
        x = x + dt * v
        trajectory.append(x)
    if return_trajectory:
        return x, torch.stack(trajectory)
    return x


def reflow_pairs(velocity, noise, num_steps: int = 100, method: str = "heun"):
    """One reflow round's coupling (Liu et al. 2023): (x0_hat, noise) joined by the flow.

    Training a new field with ``cfm_loss`` on these pairs (same path) straightens the
    flow: the pairs no longer cross, so their straight interpolations are what the new
    field can follow.
    """
    with torch.no_grad():
        x0 = flow_sample(velocity, noise, num_steps, method)
    return x0, noise


def straightness(trajectory):
    """Mean squared deviation of a trajectory's step velocities from its end-to-end one.

    trajectory: (N + 1, B, ...) on an equally spaced grid from t = 1 to t = 0 (as
    ``flow_sample`` returns it). Liu et al.'s S = int_0^1 E||(x_1 - x_0) - dx/dt||^2 dt,
    by the rectangle rule; 0 exactly when every path is a straight line at constant speed.
    """
    n = trajectory.shape[0] - 1
    if n < 1:
        raise ValueError("a trajectory needs at least two points")
    steps = (trajectory[1:] - trajectory[:-1]) * n  # (N, B, ...): velocities times -1
    overall = trajectory[-1] - trajectory[0]  # (B, ...)
    dev = (steps - overall).flatten(2).pow(2).sum(-1)  # (N, B)
    return dev.mean()


# --------------------------------------------------------------- consistency models


def consistency_function(network, x, t):
    """f(x, t) = x - t F(x, t) for the linear path: the boundary condition f(x, 0) = x holds
    by construction, and F is the average velocity from t down to 0 (one Euler step of
    size t with it lands on the trajectory's end). ``network(x, t)`` is a velocity-like field.
    """
    return x - expand_to(torch.as_tensor(t), x) * network(x, t)


def consistency_distillation_loss(
    student, target, teacher_velocity, x0, noise, t, t_prev, path="linear", method="heun"
):
    """Consistency distillation (Song et al. 2023): mean (f(x_t, t) - f^-(x_prev, t_prev))^2.

    ``student`` and ``target`` are consistency functions (x, t) -> estimate of x0 (the
    target is usually a slowly updated copy of the student and gets no gradient); x_prev is
    one Euler or Heun step of the teacher's probability-flow ODE from x_t at t to t_prev.
    t and t_prev are float tensors (B,) with t > t_prev >= 0.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if torch.any(torch.as_tensor(t_prev) >= torch.as_tensor(t)):
        raise ValueError("t_prev must be smaller than t")
    x_t = interpolate(x0, noise, t, path)
    with torch.no_grad():
        dt = expand_to(torch.as_tensor(t_prev) - torch.as_tensor(t), x_t)
        v = teacher_velocity(x_t, t)
        if method == "heun":
            v = (v + teacher_velocity(x_t + dt * v, t_prev)) / 2
        x_prev = x_t + dt * v
        goal = target(x_prev, t_prev)
    return torch.mean((student(x_t, t) - goal) ** 2)


def consistency_sample(f, noise, times, generator=None, path="linear"):
    """Multistep consistency sampling: x = f(noise, 1), then for each t in ``times``
    (decreasing, in (0, 1)) re-noise x to time t with fresh noise and map it back with f.
    One network evaluation per entry of [1] + times.
    """
    times = [float(t) for t in times]
    pairs = zip(times, times[1:], strict=False)
    if any(not 0 < t < 1 for t in times) or any(b >= a for a, b in pairs):
        raise ValueError(f"times must decrease strictly inside (0, 1), got {times}")
    batch = noise.shape[0]
    x = f(noise, torch.ones(batch, dtype=torch.float64))
    for t in times:
        z = torch.randn(noise.shape, generator=generator, dtype=noise.dtype)
        tt = torch.full((batch,), t, dtype=torch.float64)
        x = f(interpolate(x, z.to(noise.device), tt, path), tt)
    return x


# --------------------------------------------------------------- progressive distillation


def progressive_distillation_target(teacher_velocity, x_t, t, step, method: str = "euler"):
    """The velocity that covers two teacher steps in one (Salimans and Ho 2022, for flows).

    The teacher moves x_t from t to t - step / 2 and on to t - step (Euler or Heun steps
    of its field); the target is the constant velocity that makes one student step of size
    ``step`` land at the same point: (x_teacher - x_t) / (-step). A student that matches
    it everywhere samples with N steps what the teacher samples with 2N on the same grid.
    t: float tensor (B,) with t - step >= 0; step: a positive float. No gradient.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    step = float(step)
    t = torch.as_tensor(t)
    if not step > 0 or torch.any(t - step < -1e-12) or torch.any(t > 1):
        raise ValueError(f"need 0 < step <= t <= 1, got step {step} and t in "
                         f"[{t.min().item()}, {t.max().item()}]")  # fmt: skip
    half = step / 2
    with torch.no_grad():
        x = x_t
        for k in range(2):
            now, nxt = t - k * half, t - (k + 1) * half
            v = teacher_velocity(x, now)
            if method == "heun":
                v = (v + teacher_velocity(x - half * v, nxt)) / 2
            x = x - half * v
        return (x_t - x) / step


def progressive_distillation_loss(
    student, teacher_velocity, x0, noise, t, step, path="linear", method="euler"
):
    """Mean (student(x_t, t) - two-teacher-step target)^2 at x_t = interpolate(x0, noise, t).

    One round of progressive distillation trains a student with this loss on the grid
    t in {step, 2 step, ..., 1}, then the student becomes the next round's teacher with the
    step doubled (8 -> 4 -> 2 -> 1 steps).
    """
    x_t = interpolate(x0, noise, t, path)
    goal = progressive_distillation_target(teacher_velocity, x_t, t, step, method)
    return torch.mean((student(x_t, t) - goal) ** 2)
