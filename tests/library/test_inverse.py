"""Inpainting keeps the observation; RePaint's schedule; DPS differentiates through the model."""

import pytest
import torch

from diffcourse.forward import q_sample
from diffcourse.inverse import (
    dps_gradient,
    dps_sample,
    inpaint_replacement_step,
    repaint_sample,
    repaint_schedule,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _mask(B=4):
    m = torch.zeros(B, 1, 4, 4, dtype=torch.float64)
    m[..., :2, :] = 1  # top half known
    return m


def test_replacement_step_noises_the_observation_to_the_same_t(abar_cosine, randn):
    x, x0, noise = randn(4, 1, 4, 4, seed=1), randn(4, 1, 4, 4, seed=2), randn(4, 1, 4, 4, seed=3)
    t, m = torch.tensor([999, 500, 10, 0]), _mask()
    out = inpaint_replacement_step(x, x0, m, t, noise, abar_cosine)
    known = q_sample(x0, t, noise, abar_cosine)
    torch.testing.assert_close(out[..., :2, :], known[..., :2, :], rtol=0, atol=0)
    torch.testing.assert_close(out[..., 2:, :], x[..., 2:, :], rtol=0, atol=0)
    final = inpaint_replacement_step(x, x0, m, -1, None, abar_cosine)
    torch.testing.assert_close(final[..., :2, :], x0[..., :2, :], rtol=0, atol=0)
    with pytest.raises(ValueError, match="noise is required"):
        inpaint_replacement_step(x, x0, m, t, None, abar_cosine)


@pytest.mark.parametrize("n, jump, r", [(20, 5, 1), (20, 5, 3), (30, 10, 2)])
def test_repaint_schedule(n, jump, r):
    path = repaint_schedule(n, jump, r)
    assert path[0] == 0 and path[-1] == n
    assert all(abs(b - a) == 1 for a, b in zip(path[:-1], path[1:], strict=True))
    jump_points = len(range(jump, n, jump))  # multiples of jump strictly inside the grid
    ups = sum(b < a for a, b in zip(path[:-1], path[1:], strict=True))
    assert ups == (r - 1) * jump * jump_points
    if r == 1:
        assert path == list(range(n + 1))


def _gaussian_eps(abar, mean=0.5, s2=0.2):
    def eps(x, t):
        a = abar[t].view(-1, 1, 1, 1).to(x)
        return (1 - a).sqrt() * (x - a.sqrt() * mean) / (a * s2 + 1 - a)

    return eps


@pytest.mark.parametrize("resamplings", [1, 3])
def test_repaint_keeps_the_known_pixels(abar_cosine, randn, resamplings):
    x0, m = randn(4, 1, 4, 4, seed=4), _mask()
    out = repaint_sample(
        None, x0, m, abar_cosine, torch.Generator().manual_seed(0), num_steps=20, jump_length=5,
        resamplings=resamplings, predict=_gaussian_eps(abar_cosine),
    )  # fmt: skip
    torch.testing.assert_close(out[..., :2, :], x0[..., :2, :], rtol=0, atol=0)
    assert torch.isfinite(out).all() and out.dtype == torch.float64
    # The generated half follows the model (independent pixels, mean 0.5).
    assert (out[..., 2:, :].mean() - 0.5).abs() < 0.4


def test_dps_gradient_flows_through_the_model(abar_cosine, randn):
    w = randn(16, 16, seed=5) * 0.2

    def model(x, t):
        return torch.tanh(x.flatten(1) @ w).view_as(x) * (t.to(x.dtype).view(-1, 1, 1, 1) / 999)

    def A(x):  # keep the top half
        return x[..., :2, :]

    x, t = randn(2, 1, 4, 4, seed=6), torch.tensor([600, 300])
    y = randn(2, 1, 2, 4, seed=7)
    grad, out, norms = dps_gradient(model, x, t, y, A, abar_cosine)
    assert grad.abs().max() > 0 and out.grad_fn is None

    def objective(x_):
        a = abar_cosine[t].view(-1, 1, 1, 1)
        x0_hat = (x_ - (1 - a).sqrt() * model(x_, t)) / a.sqrt()
        return (y - A(x0_hat)).flatten(1).norm(dim=1).sum()

    # Central differences of the objective: they see the model's Jacobian, a detached model not.
    h, fd = 1e-6, torch.zeros_like(x)
    for i in range(x.numel()):
        e = torch.zeros(x.numel(), dtype=torch.float64)
        e[i] = h
        e = e.view_as(x)
        fd.view(-1)[i] = (objective(x + e) - objective(x - e)) / (2 * h)
    torch.testing.assert_close(grad, fd, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(norms.sum(), objective(x))


def test_dps_pulls_samples_toward_the_observation(abar_cosine):
    def A(x):
        return x[..., :2, :]

    y = torch.full((64, 1, 2, 4), -0.8, dtype=torch.float64)
    eps = _gaussian_eps(abar_cosine)
    kw = dict(num_steps=25, predict=eps, dtype=torch.float64)
    free = dps_sample(None, y, A, (64, 1, 4, 4), abar_cosine, torch.Generator().manual_seed(0),
                      zeta=0.0, **kw)  # fmt: skip
    dps = dps_sample(None, y, A, (64, 1, 4, 4), abar_cosine, torch.Generator().manual_seed(0),
                     zeta=0.5, **kw)  # fmt: skip
    err = lambda x: (A(x) - y).abs().mean().item()
    assert err(dps) < 0.5 * err(free)
