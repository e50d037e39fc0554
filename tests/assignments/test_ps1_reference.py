"""Problem set 1's reference solutions agree with the course library and with diffusers.

The reference code is the solution code of the source notebook (assignments/ps1/ps1.py);
the library is diffcourse.* with the same names and signatures. A library function that
does not exist fails its test, naming it. diffusers (test-only) is a second,
independent oracle for the schedules and the DDPM step. The samplers draw from equally
seeded generators in the same order, so they must agree exactly.
"""

from __future__ import annotations

import math

import pytest
import torch
from notebook_harness import library, namespace, parse


@pytest.fixture(scope="module")
def ref():
    torch.set_num_threads(1)
    return namespace(parse("ps1"))


def max_err(a, b):
    assert isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    return (a - b).abs().max().item()


def linear_abar(T=1000):
    return torch.cumprod(1 - torch.linspace(1e-4, 0.02, T, dtype=torch.float64), 0)


def cosine_abar(T=1000):
    f = [math.cos((i / T + 0.008) / 1.008 * math.pi / 2) ** 2 for i in range(T + 1)]
    betas = [min(1 - f[i + 1] / f[i], 0.999) for i in range(T)]
    return torch.cumprod(1 - torch.tensor(betas, dtype=torch.float64), 0)


ARGS = [
    {},
    {"T": 50, "dtype": torch.float32},
    {"T": 7},
]


@pytest.mark.parametrize("kwargs", ARGS)
def test_linear_betas(ref, kwargs):
    theirs = library("schedules", "linear_betas")
    tol = 1e-7 if kwargs.get("dtype") == torch.float32 else 1e-12
    assert max_err(ref["linear_betas"](**kwargs), theirs(**kwargs)) < tol
    kw = dict(kwargs, beta_start=0.001, beta_end=0.3)
    assert max_err(ref["linear_betas"](**kw), theirs(**kw)) < tol


@pytest.mark.parametrize("kwargs", ARGS + [{"T": 40, "s": 0.1, "max_beta": 0.5}])
def test_cosine_betas(ref, kwargs):
    theirs = library("schedules", "cosine_betas")
    tol = 1e-7 if kwargs.get("dtype") == torch.float32 else 1e-12
    assert max_err(ref["cosine_betas"](**kwargs), theirs(**kwargs)) < tol


def test_schedules_match_diffusers(ref):
    """diffusers' DDPMScheduler betas: 'linear' and 'squaredcos_cap_v2' (the cosine schedule)."""
    diffusers = pytest.importorskip("diffusers")
    lin = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear").betas
    cos = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2").betas
    # diffusers builds its betas in float32.
    assert max_err(ref["linear_betas"](dtype=torch.float32), lin) < 1e-7
    assert max_err(ref["cosine_betas"](dtype=torch.float32), cos.float()) < 1e-6


def test_q_sample(ref):
    theirs = library("forward", "q_sample")
    g = torch.Generator().manual_seed(0)
    for abar in (linear_abar(), cosine_abar()):
        for shape in [(2, 2), (5, 2), (5, 3, 4, 4)]:
            for dtype in (torch.float64, torch.float32):
                x0 = torch.randn(shape, generator=g, dtype=dtype)
                eps = torch.randn(shape, generator=g, dtype=dtype)
                t = torch.randint(0, 1000, (shape[0],), generator=g)
                t[0] = 0
                ours, lib_out = ref["q_sample"](x0, t, eps, abar), theirs(x0, t, eps, abar)
                assert max_err(ours, lib_out) < (1e-12 if dtype == torch.float64 else 1e-6)


def test_dsm_loss(ref):
    theirs = library("losses", "dsm_loss")
    g = torch.Generator().manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.SiLU(), torch.nn.Linear(16, 2))
    net = net.double()

    def model(x, t, labels=None):
        return net(torch.cat([x, t.to(x.dtype)[:, None] / 1000], dim=1))

    x0 = torch.randn(64, 2, generator=g, dtype=torch.float64)
    eps = torch.randn(64, 2, generator=g, dtype=torch.float64)
    t = torch.randint(0, 1000, (64,), generator=g)
    ours = ref["dsm_loss"](model, x0, t, eps, linear_abar())
    lib_out = theirs(model, x0, t, eps, linear_abar())
    assert abs(ours.item() - lib_out.item()) < 1e-12
    grads = torch.autograd.grad(ours, list(net.parameters()))
    lib_grads = torch.autograd.grad(lib_out, list(net.parameters()))
    assert max(max_err(a, b) for a, b in zip(grads, lib_grads, strict=True)) < 1e-12


@pytest.mark.parametrize("abar_fn", [linear_abar, cosine_abar], ids=["linear", "cosine"])
def test_ddpm_step(ref, abar_fn):
    theirs = library("samplers", "ddpm_step")
    abar = abar_fn()
    g = torch.Generator().manual_seed(2)
    for shape in [(2, 2), (6, 2), (6, 1, 3, 3)]:
        B = shape[0]
        x = torch.randn(shape, generator=g, dtype=torch.float64)
        e = torch.randn(shape, generator=g, dtype=torch.float64)
        z = torch.randn(shape, generator=g, dtype=torch.float64)
        t = torch.tensor([999, 500, 37, 1, 0, 998][:B])
        ours, lib_out = ref["ddpm_step"](e, t, x, abar, z), theirs(e, t, x, abar, z)
        assert max_err(ours, lib_out) < 1e-9 * max(1.0, lib_out.abs().max().item())


@pytest.mark.parametrize("t", [999, 500, 37, 1, 0])
def test_ddpm_step_matches_diffusers(ref, t):
    """DDPMScheduler.step (epsilon, fixed_small, no clipping) with the same noise, float64."""
    diffusers = pytest.importorskip("diffusers")
    sched = diffusers.DDPMScheduler(
        num_train_timesteps=1000, beta_schedule="linear", clip_sample=False
    )
    sched.alphas_cumprod = sched.alphas_cumprod.double()
    sched.alphas = sched.alphas.double()
    sched.betas = sched.betas.double()
    abar = sched.alphas_cumprod.clone()
    g = torch.Generator().manual_seed(3 + t)
    x = torch.randn(4, 2, generator=g, dtype=torch.float64)
    e = torch.randn(4, 2, generator=g, dtype=torch.float64)
    seed = 100 + t
    z = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    theirs = sched.step(e, t, x, generator=torch.Generator().manual_seed(seed)).prev_sample
    ours = ref["ddpm_step"](e, torch.full((4,), t), x, abar, z)
    assert max_err(ours, theirs) < 1e-9


def test_ddpm_sample_equals_library_with_the_same_generator(ref):
    theirs = library("samplers", "ddpm_sample")
    abar = linear_abar(50)

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(
                torch.tensor([[0.3, -0.1], [0.2, 0.4]], dtype=torch.float64)
            )

        def forward(self, x, t, labels=None):
            return x @ self.w + 1e-3 * t.to(x.dtype)[:, None]

    for kwargs in ({"dtype": torch.float64}, {"dtype": torch.float64, "return_trajectory": True}):
        ours = ref["ddpm_sample"](
            Model(), (16, 2), abar, torch.Generator().manual_seed(4), **kwargs
        )
        lib_out = theirs(Model(), (16, 2), abar, torch.Generator().manual_seed(4), **kwargs)
        if kwargs.get("return_trajectory"):
            assert max_err(ours[1], lib_out[1]) < 1e-12
            ours, lib_out = ours[0], lib_out[0]
        assert max_err(ours, lib_out) < 1e-12
