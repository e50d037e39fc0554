"""Problem set 3's reference solutions (and given helpers) agree with the course library.

Each reference is the solution code extracted from assignments/ps3/ps3.py and
run in a kernel-like namespace (notebook_harness.py). It is compared with
the library's implementation (diffcourse.guidance, samplers, schedules,
interpolation, illusions, inverse, sds) on random float64 inputs with per-sample
timesteps; a library function that does not exist fails its test, naming it.
"""

from __future__ import annotations

import importlib

import torch
from notebook_harness import library, namespace, parse

NB = parse("ps3")
REF = namespace(NB)


def cosine_abar():
    from diffcourse.schedules import make_schedule

    return make_schedule("cosine")


class LinearModel:
    """eps = a_t pix tanh(x) + 0.2 x + m[y]: conditional, differentiable, not equivariant."""

    def __init__(self, seed=0, num_classes=10):
        g = torch.Generator().manual_seed(seed)
        self.a = torch.linspace(0.05, 1.5, 1000, dtype=torch.float64)
        self.pix = 0.5 + torch.rand(1, 1, 8, 8, generator=g, dtype=torch.float64)
        self.m = torch.randn(num_classes + 1, 1, 8, 8, generator=g, dtype=torch.float64)
        self.null = num_classes

    def __call__(self, x, t, labels=None):
        lab = torch.full_like(t, self.null) if labels is None else labels
        a = self.a[t].view(-1, 1, 1, 1)
        return a * self.pix * torch.tanh(x) + 0.2 * x + self.m[lab]


def _inputs(seed=1, B=5):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, 1, 8, 8, generator=g, dtype=torch.float64)
    noise = torch.randn(B, 1, 8, 8, generator=g, dtype=torch.float64)
    t = torch.tensor([999, 500, 37, 1, 0])[:B]
    labels = torch.tensor([3, 0, 9, 6, 1])[:B]
    return x, noise, t, labels


def test_given_ddim_step_matches_library():
    lib = library("samplers", "ddim_step")
    abar = cosine_abar()
    x, noise, t, _ = _inputs()
    eps = torch.randn(x.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    t_prev = torch.tensor([979, 480, 17, 0, -1])
    for eta in (0.0, 0.5, 1.0):
        for clip in (False, True):
            ours = REF["ddim_step"](eps, t, t_prev, x, abar, eta, noise, clip)
            theirs = lib(eps, t, t_prev, x, abar, eta=eta, noise=noise, clip_sample=clip)
            assert (ours - theirs).abs().max().item() < 1e-10, (eta, clip)


def test_given_timesteps_match_library_leading_spacing():
    lib = library("schedules", "timesteps")
    for n in (1, 7, 20, 25, 50, 100, 1000):
        assert REF["ddim_timesteps"](n, 1000) == lib(n, 1000, "leading").tolist(), n


def test_cfg_prediction_matches_library():
    lib = library("guidance", "cfg_prediction")
    x, _, t, labels = _inputs()
    model = LinearModel()
    for w in (0.0, 1.0, 3.5):
        ours = REF["cfg_prediction"](model, x, t, labels, w, 10)
        theirs = lib(model, x, t, labels, w, 10)
        assert (ours - theirs).abs().max().item() < 1e-12


def test_slerp_matches_library():
    lib = library("interpolation", "slerp")
    g = torch.Generator().manual_seed(4)
    z0 = torch.randn(6, 1, 8, 8, generator=g, dtype=torch.float64)
    z1 = torch.randn(6, 1, 8, 8, generator=g, dtype=torch.float64)
    z1[0] = z0[0]  # identical row
    z1[1] = -z0[1]  # opposite row: any finite answer is accepted, so compare the others
    for alpha in (0.0, 0.3, 0.5, 1.0):
        ours = REF["slerp"](z0, z1, alpha)
        theirs = lib(z0, z1, alpha)
        assert torch.isfinite(theirs).all()
        keep = [0, 2, 3, 4, 5]
        assert (ours[keep] - theirs[keep]).abs().max().item() < 1e-9, alpha


def test_multiview_prediction_matches_library():
    lib = library("illusions", "multiview_prediction")
    illusions = importlib.import_module("diffcourse.illusions")
    x, _, t, labels = _inputs()
    model = LinearModel(seed=5)
    pairs = [("Identity", "Identity"), ("Rot90", "Rot90"), ("HFlip", "HFlip"), ("Rot180", "Rot180")]
    ours_views = [REF[name]() for name, _ in pairs]
    lib_views = [getattr(illusions, name)() for _, name in pairs]
    ys = [labels, labels.flip(0), (labels + 3) % 10, (labels + 5) % 10]
    for w in (1.0, 2.5):
        ours = REF["multiview_prediction"](model, x, t, ours_views, ys, w, 10)
        theirs = lib(model, x, t, lib_views, ys, w, 10)
        assert (ours - theirs).abs().max().item() < 1e-12


def test_view_classes_match_library():
    x = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    for name in ("Identity", "Rot90", "Rot180", "HFlip", "VFlip"):
        ours, theirs = REF[name](), library("illusions", name)()
        assert torch.equal(ours.apply(x), theirs.apply(x)), name
        assert torch.equal(ours.inverse(x), theirs.inverse(x)), name


def test_replace_known_matches_library():
    lib = library("inverse", "inpaint_replacement_step")
    abar = cosine_abar()
    x, noise, _, _ = _inputs()
    y = torch.randn(x.shape, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    mask = (torch.rand(x.shape, generator=torch.Generator().manual_seed(7)) < 0.5).double()
    t_prev = torch.tensor([998, 500, 37, 0, -1])
    ours = REF["replace_known"](x, y, mask, t_prev, noise, abar)
    theirs = lib(x, y, mask, t_prev, noise, abar)
    assert (ours - theirs).abs().max().item() < 1e-12


def test_forward_jump_matches_library_marginals():
    """q(x_t | x_s) composed with q(x_s | x0) is q(x_t | x0) of diffcourse.forward.q_sample."""
    q_sample = library("forward", "q_sample")
    abar = cosine_abar()
    x0, _, _, _ = _inputs()
    g = torch.Generator().manual_seed(8)
    e1 = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    e2 = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    s = torch.tensor([979, 480, 17, 0, -1])
    t = torch.tensor([999, 500, 37, 1, 0])
    # Composed: x_t = sqrt(abar_t) x0 + sqrt(abar_t/abar_s (1 - abar_s)) e1
    #                + sqrt(1 - abar_t/abar_s) e2, a sample of q(x_t | x0) with the noise
    # e = (sqrt(abar_t/abar_s (1 - abar_s)) e1 + sqrt(1 - abar_t/abar_s) e2) / sqrt(1 - abar_t).
    ext = torch.cat([abar, torch.ones(1, dtype=torch.float64)])
    a_s, a_t = ext[s].view(-1, 1, 1, 1), ext[t].view(-1, 1, 1, 1)
    x_s = a_s.sqrt() * x0 + (1 - a_s).sqrt() * e1
    x_t = REF["forward_jump"](x_s, s, t, e2, abar)
    e = ((a_t / a_s * (1 - a_s)).sqrt() * e1 + (1 - a_t / a_s).sqrt() * e2) / (1 - a_t).sqrt()
    assert (x_t - q_sample(x0, t, e, abar)).abs().max().item() < 1e-9


def test_sds_grad_matches_library():
    lib = library("sds", "sds_grad")
    abar = cosine_abar()
    x, noise, t, labels = _inputs()
    model = LinearModel(seed=9)
    ours = REF["sds_grad"](model, x, t, noise, labels, 4.0, 10, abar)
    theirs = lib(
        model, x, t, noise, labels=labels, guidance_scale=4.0, alphas_cumprod=abar, null_label=10
    )
    assert (ours - theirs).abs().max().item() < 1e-12


def test_render_occupancy_matches_library():
    lib = library("sds", "render_occupancy")
    grid = torch.rand(3, 8, 8, 8, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    for axis in (1, 2, 3):
        assert (REF["render_occupancy"](grid, axis) - lib(grid, axis)).abs().max().item() < 1e-12


def test_dps_step_matches_library():
    """dps_step = the library's DDIM step (eta = 1) minus zeta times its DPS gradient."""
    dps_gradient = library("inverse", "dps_gradient")
    ddim_step = library("samplers", "ddim_step")
    abar = cosine_abar()
    x, noise, t, _ = _inputs()
    model = LinearModel(seed=12)
    uncond = lambda x_, t_: model(x_, t_)
    pool = lambda z: z.reshape(z.shape[0], 1, 4, 2, 4, 2).mean((3, 5))
    y = torch.randn(5, 1, 4, 4, generator=torch.Generator().manual_seed(13), dtype=torch.float64)
    t_prev = torch.tensor([979, 480, 17, 0, -1])
    ours = REF["dps_step"](uncond, x, t, t_prev, y, pool, 0.7, noise, abar)
    grad, eps, _ = dps_gradient(uncond, x, t, y, pool, abar)
    theirs = ddim_step(eps, t, t_prev, x, abar, eta=1.0, noise=noise) - 0.7 * grad
    assert (ours - theirs).abs().max().item() < 1e-10


def test_dps_step_gradient_goes_through_the_model():
    """Independent of the library: the DPS correction differs from a detached-model one."""
    abar = cosine_abar()
    x, noise, t, _ = _inputs()
    model = LinearModel(seed=11)
    uncond = lambda x_, t_: model(x_, t_)
    pool = lambda z: z.reshape(z.shape[0], 1, 4, 2, 4, 2).mean((3, 5))
    y = torch.zeros(5, 1, 4, 4, dtype=torch.float64)
    t_prev = torch.tensor([979, 480, 17, 0, -1])
    full = REF["dps_step"](uncond, x, t, t_prev, y, pool, 1.0, noise, abar)
    frozen = lambda x_, t_: uncond(x_, t_).detach()
    detached = REF["dps_step"](frozen, x, t, t_prev, y, pool, 1.0, noise, abar)
    assert (full - detached).abs().max().item() > 1e-3
