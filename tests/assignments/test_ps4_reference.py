"""Problem set 4's reference solutions and given helpers agree with the course library.

Each reference is the solution code extracted from assignments/ps4/ps4.ipynb (generated from
ps4.py) and run in a kernel-like namespace (notebook_harness.py). It is compared with the
library's flow-matching module (diffcourse.flow, itself tested against closed forms in
tests/library/test_flow.py) on random float64 inputs with per-sample times. The given helpers
(the exact noised density and score, the DDPM/DDIM sampler built on the conversions) are checked
against the library's independently tested mixture score and velocity. Last, the library holds
these answers, so the wheel's date rule must count ps4 among the sets it waits for.
"""

from __future__ import annotations

import ast

import torch
from notebook_harness import ROOT, library, namespace, parse

NB = parse("ps4")
REF = namespace(NB)


def given_functions(marker: str) -> dict:
    """The set-up cell (data, exact density, network; cheap), then only the function and class
    definitions of the given cell holding `marker` (its other statements train or plot)."""
    ns = dict(REF)
    setup = next(s for s in NB.given if "def true_log_density" in s)
    exec(compile(setup, "<setup>", "exec"), ns)
    tree = ast.parse(next(s for s in NB.given if marker in s))
    keep = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    exec(compile(ast.Module(body=keep, type_ignores=[]), "<given>", "exec"), ns)
    return ns


def _batch(seed=0, B=5, D=2):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randn(B, D, generator=g, dtype=torch.float64)
    noise = torch.randn(B, D, generator=g, dtype=torch.float64)
    t = torch.tensor([0.97, 0.6, 0.31, 0.05, 0.5], dtype=torch.float64)[:B]
    return x0, noise, t


def _field(x, t):
    return torch.sin(2 * x) * (1 + t[:, None]) - 0.3 * x.flip(1)


def test_cfm_loss_matches_library():
    lib = library("flow", "cfm_loss")
    x0, noise, t = _batch()
    assert (
        abs(REF["cfm_loss"](_field, x0, noise, t).item() - lib(_field, x0, noise, t).item()) < 1e-13
    )


def test_conversions_match_library_on_both_paths():
    coefficients = library("flow", "path_coefficients")
    to_x0, to_eps = library("flow", "velocity_to_x0"), library("flow", "velocity_to_eps")
    to_score = library("flow", "velocity_to_score")
    x_t, v, t = _batch(1)
    for path in ("linear", "cosine"):
        coefs = coefficients(t, path)
        x0_hat, eps_hat = REF["velocity_to_x0_eps"](v, x_t, *coefs)
        assert (x0_hat - to_x0(v, x_t, t, path)).abs().max().item() < 1e-12, path
        assert (eps_hat - to_eps(v, x_t, t, path)).abs().max().item() < 1e-12, path
        score = REF["velocity_to_score"](v, x_t, *coefs)
        assert (score - to_score(v, x_t, t, path)).abs().max().item() < 1e-10, path


def test_flow_step_loop_matches_library_sampler():
    sample = library("flow", "flow_sample")
    z = _batch(2)[0]
    for method in ("euler", "heun"):
        x = z
        for k in range(7):
            x = REF["flow_step"](_field, x, 1 - k / 7, 1 - (k + 1) / 7, method)
        assert (x - sample(_field, z, 7, method)).abs().max().item() < 1e-12, method


def test_straightness_matches_library():
    lib = library("flow", "straightness")
    traj = torch.randn(9, 4, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert abs(REF["straightness"](traj).item() - lib(traj).item()) < 1e-12


def test_progressive_distillation_target_matches_library():
    lib = library("flow", "progressive_distillation_target")
    x, _, t = _batch(4)
    t = t.clamp(min=0.25)
    ours = REF["progressive_distillation_target"](_field, x, t, 0.25)
    assert (ours - lib(_field, x, t, 0.25)).abs().max().item() < 1e-13


def test_given_exact_score_is_the_library_mixture_velocity_converted():
    """The notebook's true_score (autograd of its noised log density) against the library's
    exact mixture velocity, turned into a score by the library's conversion."""
    gmm_velocity = library("flow", "gmm_velocity")
    to_score = library("flow", "velocity_to_score")
    ns = given_functions("def true_log_density")
    mixture = ns["MIXTURE"]
    x = 3 * torch.randn(64, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    t = torch.rand(64, generator=torch.Generator().manual_seed(6), dtype=torch.float64) * 0.9 + 0.05
    for path_name, path in (("linear", ns["linear_path"]), ("cosine", ns["cosine_path"])):
        exact = to_score(gmm_velocity(x, t, mixture, path_name), x, t, path_name)
        ours = ns["true_score"](x, t, path)
        assert (ours - exact).abs().max().item() < 1e-9, path_name


def test_given_ddim_is_flow_euler_and_ddpm_samples_gaussian_data():
    """DDIM (eta = 0) on the linear path is Euler (the set's Question 2c). DDPM's ancestral
    steps with the exact velocity of N(M, S^2 I) data sample that Gaussian once the steps are
    small (a wrong posterior mean or variance would show in the moments)."""
    ns = given_functions("def diffusion_sample")
    flow_sample = library("flow", "flow_sample")
    z = torch.randn(6, 2, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    ddim = ns["diffusion_sample"](_field, z, 5, stochastic=False)
    assert (ddim - flow_sample(_field, z, 5)).abs().max().item() < 1e-12
    M, S = torch.tensor([0.7, -1.2], dtype=torch.float64), 0.5

    def gaussian_velocity(x, t):
        a, s = (1 - t)[:, None].to(x), t[:, None].to(x)
        return -M + (-a * S**2 + s) / (a**2 * S**2 + s**2) * (x - a * M)

    z = torch.randn(20000, 2, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    x = ns["diffusion_sample"](gaussian_velocity, z, 200, stochastic=True, seed=9)
    assert (x.mean(0) - M).abs().max().item() < 0.02
    assert (x.std(0) - S).abs().max().item() < 0.02
    few = ns["diffusion_sample"](gaussian_velocity, z, 4, stochastic=True, seed=9)
    assert few.std(0).min().item() < S - 0.05  # with large steps the variance is too small


def test_the_wheel_waits_for_ps4():
    """The library defines ps4's graded functions, so ps4's due date gates the wheel."""
    from diffcourse_staff.course import load_course
    from diffcourse_staff.release.wheel import answered_problem_sets

    course = load_course()
    answered = {
        a.assignment.id: a.evidence
        for a in answered_problem_sets(course, ROOT / "src" / "diffcourse")
    }
    assert "ps4" in answered, "the wheel's date rule does not see ps4's answers in the library"
