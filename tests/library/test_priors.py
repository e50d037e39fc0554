"""Denoiser priors against closed forms: with a Gaussian prior the MMSE denoiser is linear
and symmetric, so RED's minimiser and plug-and-play's fixed point solve linear systems."""

import pytest
import torch

from diffcourse.priors import (
    denoiser_from_eps,
    null_space_ddim,
    pnp_hqs,
    project_measurements,
    red_solve,
)
from diffcourse.samplers import ddim_sample

pytestmark = pytest.mark.usefixtures("one_thread")

D = 6


@pytest.fixture
def prior():
    """Covariance C of a Gaussian prior N(0, C), and the operator: keep coordinates 0, 2, 3."""
    g = torch.Generator().manual_seed(0)
    B = torch.randn(D, D, generator=g, dtype=torch.float64)
    C = B @ B.T / D + 0.1 * torch.eye(D, dtype=torch.float64)
    rows = torch.eye(D, dtype=torch.float64)[[0, 2, 3]]  # (3, D), row-orthonormal
    return C, rows


def wiener(C, sigma):
    """The exact MMSE denoiser matrix of y = x + sigma n under N(0, C): C (C + sigma^2 I)^-1."""
    return C @ torch.linalg.inv(C + sigma**2 * torch.eye(D, dtype=C.dtype))


def test_denoiser_from_eps_is_the_wiener_filter_for_gaussian_data(abar, randn):
    s = 0.6  # data N(0, s^2 I): eps_hat(x_t) = sqrt(1 - abar) x_t / (abar s^2 + 1 - abar)

    def predict(x_t, t):
        a = abar[t].to(x_t).view(-1, 1)
        return (1 - a).sqrt() * x_t / (a * s**2 + 1 - a)

    denoise = denoiser_from_eps(predict, abar)
    y = randn(5, 3, seed=1)
    t = torch.tensor([0, 10, 300, 700, 999])
    sigma2 = ((1 - abar[t]) / abar[t]).view(-1, 1)
    assert torch.allclose(denoise(y, t), s**2 / (s**2 + sigma2) * y, atol=1e-10)
    assert torch.allclose(denoise(y, 300), denoise(y, torch.full((5,), 300)))


def test_projection_enforces_the_measurements_and_keeps_the_null_space(prior, randn):
    _, rows = prior
    A, A_pinv = (lambda x: x @ rows.T), (lambda y: y @ rows)
    x, y = randn(4, D, seed=2), randn(4, 3, seed=3)
    p = project_measurements(x, y, A, A_pinv)
    assert torch.allclose(A(p), y)
    null = torch.eye(D, dtype=torch.float64) - rows.T @ rows
    assert torch.allclose(p @ null, x @ null)


def test_red_converges_to_the_closed_form_minimiser(prior, randn):
    C, rows = prior
    W = wiener(C, 0.5)
    y, s2, lam = randn(1, 3, seed=4), 0.1, 2.0
    denoise = lambda x, level: x @ W.T
    data_grad = lambda x: (x @ rows.T - y) @ rows / s2
    x = red_solve(denoise, 0.5, torch.zeros(1, D, dtype=torch.float64), data_grad, lam,
                  step=0.02, num_iters=5000)  # fmt: skip
    H = rows.T @ rows / s2 + lam * (torch.eye(D, dtype=torch.float64) - W)
    expected = torch.linalg.solve(H, rows.T @ y[0] / s2)
    assert torch.allclose(x[0], expected, atol=1e-8)


def test_pnp_converges_to_the_fixed_point_of_project_after_denoise(prior, randn):
    C, rows = prior
    W = wiener(C, 0.3)
    y = randn(1, 3, seed=5)
    A, A_pinv = (lambda x: x @ rows.T), (lambda v: v @ rows)
    x = pnp_hqs(lambda x, level: x @ W.T, [0.3] * 400, torch.zeros(1, D, dtype=torch.float64),
                lambda z: project_measurements(z, y, A, A_pinv))  # fmt: skip
    # x = (I - P_null) ... : x = P_null W x + A^+ y  =>  (I - P_null W) x = A^+ y
    null = torch.eye(D, dtype=torch.float64) - rows.T @ rows
    expected = torch.linalg.solve(torch.eye(D, dtype=torch.float64) - null @ W, rows.T @ y[0])
    assert torch.allclose(x[0], expected, atol=1e-10)
    assert torch.allclose(A(x), y)


def test_null_space_ddim_meets_the_measurements_and_is_ddim_without_them(abar_cosine, randn):
    w = randn(4, 4, seed=6) * 0.3
    predict = lambda x, t: torch.tanh(x @ w) * (1 + t.to(x.dtype)[:, None] / 1000)
    x_T, y = randn(3, 4, seed=7), randn(3, 2, seed=8).clamp(-1, 1)
    A, A_pinv = (lambda x: x[:, :2]), (lambda v: torch.cat([v, torch.zeros_like(v)], 1))
    out = null_space_ddim(predict, y, A, A_pinv, abar_cosine, 20, x_T)
    assert torch.allclose(A(out), y, atol=1e-12)
    none, none_pinv = (lambda x: x[:, :0]), (lambda v: torch.zeros(v.shape[0], 4).to(v))
    free = null_space_ddim(predict, y[:, :0], none, none_pinv, abar_cosine, 20, x_T)
    ref = ddim_sample(None, (3, 4), abar_cosine, 20, None, spacing="trailing", clip_sample=True,
                      predict=predict, x_T=x_T, dtype=torch.float64)  # fmt: skip
    assert torch.allclose(free, ref, atol=1e-10)


def test_red_refuses_bad_settings():
    with pytest.raises(ValueError, match="step > 0"):
        red_solve(lambda x, s: x, 0.1, torch.zeros(1, 2), lambda x: x, 1.0, 0.0, 10)
