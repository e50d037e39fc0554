"""Schedules against closed forms and diffusers; abar_{-1} = 1; the three timestep spacings."""

import math

import pytest
import torch
from diffusers import DDIMScheduler

from diffcourse.schedules import (
    abar_at,
    alphas_cumprod_from_betas,
    cosine_betas,
    expand_to,
    linear_betas,
    make_schedule,
    scaled_linear_betas,
    sigmas_from_alphas_cumprod,
    timesteps,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_linear_betas_closed_form():
    T = 1000
    betas = linear_betas(T)
    t = torch.arange(T, dtype=torch.float64)
    expected = 1e-4 + (0.02 - 1e-4) * t / (T - 1)
    assert betas.dtype == torch.float64 and betas.shape == (T,)
    torch.testing.assert_close(betas, expected, rtol=0, atol=1e-15)


def test_scaled_linear_betas_closed_form():
    T = 1000
    t = torch.arange(T, dtype=torch.float64)
    root = math.sqrt(0.00085) + (math.sqrt(0.012) - math.sqrt(0.00085)) * t / (T - 1)
    torch.testing.assert_close(scaled_linear_betas(T), root**2, rtol=0, atol=1e-15)


def test_cosine_abar_telescopes_to_the_closed_form():
    # Unclipped, prod_{s<=t} f((s+1)/T) / f(s/T) = f((t+1)/T) / f(0): abar is the cosine itself.
    T, s = 1000, 0.008
    abar = alphas_cumprod_from_betas(cosine_betas(T))
    f = lambda u: math.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    expected = torch.tensor([f((t + 1) / T) / f(0) for t in range(T)], dtype=torch.float64)
    # The last beta is clipped at 0.999 (f(1) = 0 would make it 1): compare the rest.
    torch.testing.assert_close(abar[:-1], expected[:-1], rtol=1e-12, atol=0)
    assert cosine_betas(T).max() == pytest.approx(0.999)
    assert 0 < abar[-1] < 1e-6


@pytest.mark.parametrize(
    "name, builder",
    [
        ("linear", linear_betas),
        ("scaled_linear", scaled_linear_betas),
        ("squaredcos_cap_v2", cosine_betas),
    ],
)
def test_betas_match_diffusers(name, builder):
    ours = builder(1000)
    # Stable Diffusion's beta range for scaled_linear (diffusers' defaults are DDPM's).
    kw = dict(beta_start=0.00085, beta_end=0.012) if name == "scaled_linear" else {}
    sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule=name, **kw)  # float32
    torch.testing.assert_close(ours, sched.betas.double(), rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(
        alphas_cumprod_from_betas(ours), sched.alphas_cumprod.double(), rtol=1e-5, atol=1e-8
    )


def test_dtype_argument_and_make_schedule():
    assert linear_betas(10, dtype=torch.float32).dtype == torch.float32
    for name in ("linear", "scaled_linear", "cosine"):
        abar = make_schedule(name, 100)
        assert abar.dtype == torch.float64 and abar.shape == (100,)
        assert torch.all(abar[1:] < abar[:-1]) and 0 < abar[-1] < abar[0] < 1
    with pytest.raises(ValueError, match="name"):
        make_schedule("quadratic")


def test_alphas_cumprod_is_the_running_product():
    betas = torch.tensor([0.1, 0.2, 0.5], dtype=torch.float64)
    expected = torch.tensor([0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.5], dtype=torch.float64)
    torch.testing.assert_close(alphas_cumprod_from_betas(betas), expected, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="betas"):
        alphas_cumprod_from_betas(torch.tensor([0.1, 1.0]))


def test_sigma_formula(abar):
    sigma = sigmas_from_alphas_cumprod(abar)
    # y = x / sqrt(abar) = x0 + sigma eps: sigma^2 = (1 - abar) / abar, i.e. (1 + sigma^2) abar = 1.
    torch.testing.assert_close((1 + sigma**2) * abar, torch.ones_like(abar), rtol=0, atol=1e-12)
    assert torch.all(sigma[1:] > sigma[:-1])


def test_abar_at_defines_minus_one_as_one(abar):
    t = torch.tensor([-1, 0, 5, 999, -1])
    got = abar_at(abar, t)
    expected = torch.tensor([1.0, abar[0], abar[5], abar[999], 1.0], dtype=torch.float64)
    assert torch.equal(got, expected)
    # The trap: indexing abar[t - 1] at t = 0 silently reads abar[T - 1].
    assert abar_at(abar, -1) == 1.0 and abar_at(abar, 0) == abar[0]
    with pytest.raises(ValueError, match="t must lie"):
        abar_at(abar, torch.tensor([1000]))
    with pytest.raises(ValueError, match="t must lie"):
        abar_at(abar, torch.tensor([-2]))
    with pytest.raises(ValueError, match="LongTensor"):
        abar_at(abar, torch.tensor([1.0]))


def test_expand_to_broadcasts_over_non_batch_dims_when_batch_equals_features():
    coef = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    x = torch.ones(3, 3, dtype=torch.float32)
    out = expand_to(coef, x) * x
    assert out.dtype == torch.float32
    torch.testing.assert_close(out[:, 0], torch.tensor([1.0, 2.0, 3.0]))  # rows, not columns
    assert expand_to(coef, torch.ones(3, 1, 4, 4)).shape == (3, 1, 1, 1)
    with pytest.raises(ValueError, match="per-sample"):
        expand_to(coef, torch.ones(4, 3))


@pytest.mark.parametrize("spacing", ["leading", "trailing", "linspace"])
@pytest.mark.parametrize("T", [1000, 37])
def test_timesteps_match_diffusers_for_every_step_count(spacing, T):
    sched = DDIMScheduler(num_train_timesteps=T, timestep_spacing=spacing)
    for n in range(1, T + 1):
        sched.set_timesteps(n)
        ours = timesteps(n, T, spacing)
        assert ours.dtype == torch.int64 and ours.shape == (n,)
        # diffusers' float arange for "trailing" sometimes yields n + 1 entries, the last
        # being -1 (e.g. T = 1000, n = 61): its first n entries are the grid.
        assert torch.equal(ours, sched.timesteps[:n]), (spacing, n)
        assert torch.all(ours[1:] < ours[:-1]) and ours.min() >= 0 and ours.max() < T


def test_timesteps_known_values_and_errors():
    assert timesteps(50, 1000, "leading")[:2].tolist() == [980, 960]
    assert timesteps(50, 1000, "leading")[-1] == 0
    assert timesteps(50, 1000, "trailing")[:2].tolist() == [999, 979]
    assert timesteps(50, 1000, "trailing")[-1] == 19
    assert timesteps(4, 10, "linspace").tolist() == [9, 6, 3, 0]
    with pytest.raises(ValueError, match="spacing"):
        timesteps(10, 1000, "uniform")
    with pytest.raises(ValueError, match="num_steps"):
        timesteps(0, 1000)
    with pytest.raises(ValueError, match="num_steps"):
        timesteps(1001, 1000)
