"""Forward process, posterior and conversions: diffusers, closed forms, Gaussian conditioning."""

import pytest
import torch
from diffusers import DDPMScheduler

from diffcourse.forward import (
    eps_to_score,
    eps_to_x0,
    posterior_mean_variance,
    q_sample,
    score_to_eps,
    v_to_eps,
    v_to_x0,
    velocity,
    x0_and_eps_from_output,
    x0_to_eps,
)
from diffcourse.schedules import alphas_cumprod_from_betas, cosine_betas, linear_betas

pytestmark = pytest.mark.usefixtures("one_thread")


def _diffusers(abar):
    sched = DDPMScheduler(num_train_timesteps=abar.shape[0])
    sched.alphas_cumprod = abar.clone()  # float64: the oracle then computes in float64
    return sched


def test_q_sample_and_velocity_match_diffusers(abar, mixed_t, randn):
    x0, noise = randn(5, 3, 4, 4, seed=1), randn(5, 3, 4, 4, seed=2)
    sched = _diffusers(abar)
    torch.testing.assert_close(
        q_sample(x0, mixed_t, noise, abar), sched.add_noise(x0, noise, mixed_t), rtol=0, atol=1e-12
    )
    torch.testing.assert_close(
        velocity(x0, noise, mixed_t, abar),
        sched.get_velocity(x0, noise, mixed_t),
        rtol=0,
        atol=1e-12,
    )


def test_q_sample_uses_abar_not_alpha(randn):
    # Linear schedule: at t = 500, alpha_t = 0.99 but abar_t ~ 0.078; x_t's moments tell.
    abar = alphas_cumprod_from_betas(linear_betas(1000))
    x0 = torch.full((20000, 1), 2.0, dtype=torch.float64)
    x_t = q_sample(x0, torch.full((20000,), 500), randn(20000, 1, seed=3), abar)
    assert x_t.mean().item() == pytest.approx(2 * abar[500].sqrt().item(), abs=0.03)
    assert x_t.var().item() == pytest.approx(1 - abar[500].item(), abs=0.03)


def test_batch_equal_to_feature_dimension(abar, randn):
    # B == D: a (B,) coefficient multiplied without reshaping would broadcast along features.
    t = torch.tensor([999, 300, 0])
    x0, noise = randn(3, 3, seed=4), randn(3, 3, seed=5)
    got = q_sample(x0, t, noise, abar)
    for b in range(3):
        row = abar[t[b]].sqrt() * x0[b] + (1 - abar[t[b]]).sqrt() * noise[b]
        torch.testing.assert_close(got[b], row, rtol=0, atol=1e-14)
    x_t = got
    for fn, arg in [(eps_to_x0, noise), (x0_to_eps, x0), (v_to_x0, noise), (eps_to_score, noise)]:
        batched = fn(arg, x_t, t, abar)
        rowwise = torch.cat(
            [fn(arg[b : b + 1], x_t[b : b + 1], t[b : b + 1], abar) for b in range(3)]
        )
        torch.testing.assert_close(batched, rowwise, rtol=0, atol=1e-14)


def test_dtype_follows_input(abar_cosine, mixed_t, randn):
    x0, noise = randn(5, 2, seed=6), randn(5, 2, seed=7)
    x64 = q_sample(x0, mixed_t, noise, abar_cosine)
    x32 = q_sample(x0.float(), mixed_t, noise.float(), abar_cosine)
    assert x64.dtype == torch.float64 and x32.dtype == torch.float32
    torch.testing.assert_close(x32.double(), x64, rtol=0, atol=1e-6)
    eps64 = x0_to_eps(x0, x64, mixed_t[:4].repeat(2)[:5], abar_cosine)
    assert eps64.dtype == torch.float64


def test_conversions_round_trip(abar, randn):
    t = torch.tensor([998, 700, 250, 3, 0])
    x0, eps = randn(5, 2, 3, seed=8), randn(5, 2, 3, seed=9)
    x_t = q_sample(x0, t, eps, abar)
    v = velocity(x0, eps, t, abar)
    tol = dict(rtol=0, atol=1e-9)
    torch.testing.assert_close(eps_to_x0(eps, x_t, t, abar), x0, **tol)
    torch.testing.assert_close(x0_to_eps(x0, x_t, t, abar), eps, **tol)
    torch.testing.assert_close(v_to_eps(v, x_t, t, abar), eps, **tol)
    torch.testing.assert_close(v_to_x0(v, x_t, t, abar), x0, **tol)
    torch.testing.assert_close(
        score_to_eps(eps_to_score(eps, x_t, t, abar), x_t, t, abar), eps, **tol
    )
    for kind, out in [("epsilon", eps), ("x0", x0), ("v", v), ("sample", x0), ("v_prediction", v)]:
        got_x0, got_eps = x0_and_eps_from_output(out, x_t, t, abar, kind)
        torch.testing.assert_close(got_x0, x0, **tol)
        torch.testing.assert_close(got_eps, eps, **tol)
    with pytest.raises(ValueError, match="prediction_type"):
        x0_and_eps_from_output(eps, x_t, t, abar, "score")


def test_eps_to_score_is_the_gradient_of_log_q(abar_cosine, randn):
    # grad_x log N(x; sqrt(abar) x0, (1 - abar) I) = -(x - sqrt(abar) x0) / (1 - abar).
    t = torch.tensor([900, 10])
    x0, eps = randn(2, 4, seed=10), randn(2, 4, seed=11)
    x_t = q_sample(x0, t, eps, abar_cosine).requires_grad_(True)
    a = abar_cosine[t][:, None]
    log_q = torch.distributions.Normal(a.sqrt() * x0, (1 - a).sqrt()).log_prob(x_t).sum()
    (grad,) = torch.autograd.grad(log_q, x_t)
    torch.testing.assert_close(
        eps_to_score(eps, x_t.detach(), t, abar_cosine), grad, rtol=1e-10, atol=0
    )


def test_posterior_one_step_is_ddpm_posterior(abar, randn):
    # Ho et al. eq. 7, written with betas and alphas rather than abar ratios.
    betas = 1 - abar / torch.cat([abar.new_ones(1), abar[:-1]])
    alphas = 1 - betas
    t = torch.tensor([999, 500, 37, 1])
    x0, x_t = randn(4, 3, seed=12), randn(4, 3, seed=13)
    mean, var = posterior_mean_variance(x0, x_t, t, t - 1, abar)
    a, a_prev = abar[t][:, None], abar[t - 1][:, None]
    b, al = betas[t][:, None], alphas[t][:, None]
    expected_mean = a_prev.sqrt() * b / (1 - a) * x0 + al.sqrt() * (1 - a_prev) / (1 - a) * x_t
    torch.testing.assert_close(mean, expected_mean, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(var, (1 - a_prev) / (1 - a) * b, rtol=1e-10, atol=0)


def test_posterior_any_s_equals_gaussian_conditioning(randn):
    # Joint of (x_s, x_t) given x0: Cov = [[1 - abar_s, sqrt(a)(1 - abar_s)], [., 1 - abar_t]].
    abar = alphas_cumprod_from_betas(cosine_betas(1000))
    t, s = torch.tensor([999, 600, 300, 50, 0]), torch.tensor([500, 10, -1, 49, -1])
    x0, x_t = randn(5, 2, seed=14), randn(5, 2, seed=15)
    mean, var = posterior_mean_variance(x0, x_t, t, s, abar)
    ab_t = abar[t][:, None]
    ab_s = torch.where(s >= 0, abar[s.clamp(min=0)], torch.ones(5, dtype=torch.float64))[:, None]
    c_ss, c_tt = 1 - ab_s, 1 - ab_t
    c_st = (ab_t / ab_s).sqrt() * (1 - ab_s)
    expected_mean = ab_s.sqrt() * x0 + c_st / c_tt * (x_t - ab_t.sqrt() * x0)
    torch.testing.assert_close(mean, expected_mean, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(var, c_ss - c_st**2 / c_tt, rtol=1e-9, atol=1e-15)
    # s = -1: the posterior of x_{-1} = x0 itself is a point mass at x0.
    torch.testing.assert_close(mean[2], x0[2], rtol=0, atol=1e-12)
    assert var[2].item() == 0.0 and var.shape == (5, 1)


def test_posterior_sampling_reproduces_the_marginal(randn):
    # x_t ~ q(x_t | x0), then x_s ~ q(x_s | x_t, x0) must be distributed as q(x_s | x0).
    abar = alphas_cumprod_from_betas(linear_betas(1000))
    n, t, s = 200_000, 800, 300
    x0 = torch.full((n, 1), 1.5, dtype=torch.float64)
    x_t = q_sample(x0, torch.full((n,), t), randn(n, 1, seed=16), abar)
    mean, var = posterior_mean_variance(x0, x_t, torch.full((n,), t), torch.full((n,), s), abar)
    x_s = mean + var.sqrt() * randn(n, 1, seed=17)
    assert x_s.mean().item() == pytest.approx(1.5 * abar[s].sqrt().item(), abs=0.01)
    assert x_s.var().item() == pytest.approx(1 - abar[s].item(), rel=0.01)


def test_posterior_rejects_s_not_before_t(abar, randn):
    x = randn(2, 2)
    with pytest.raises(ValueError, match="s must be smaller"):
        posterior_mean_variance(x, x, torch.tensor([5, 5]), torch.tensor([4, 5]), abar)
    with pytest.raises(ValueError, match="same shape"):
        q_sample(x, torch.tensor([1, 2]), randn(2, 3), abar)
