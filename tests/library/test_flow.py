"""Flow matching against closed forms: Gaussian data, whose marginal velocity and flow map
are known exactly, the library's independently tested mixture score, and numerical
derivatives of the paths."""

import math

import pytest
import torch

from diffcourse.data import gaussian_mixture_2d
from diffcourse.flow import (
    cfm_loss,
    conditional_velocity,
    consistency_distillation_loss,
    consistency_function,
    consistency_sample,
    eps_to_velocity,
    flow_sample,
    gmm_velocity,
    interpolate,
    path_coefficients,
    progressive_distillation_loss,
    progressive_distillation_target,
    reflow_pairs,
    score_to_velocity,
    straightness,
    velocity_to_eps,
    velocity_to_score,
    velocity_to_x0,
    x0_to_velocity,
)
from diffcourse.scores import GaussianMixture, gmm_noised_score

pytestmark = pytest.mark.usefixtures("one_thread")

M, S = torch.tensor([0.7, -1.2], dtype=torch.float64), 0.5  # data N(M, S^2 I)


def gaussian(mean=M, std=S):
    return GaussianMixture.isotropic(mean[None], std)


def gaussian_velocity(x, t, path):
    """The closed form: v = a' M + (a a' S^2 + s s') / (a^2 S^2 + s^2) (x - a M)."""
    a, s, da, ds = (c.view(-1, 1) for c in path_coefficients(t, path))
    return da * M + (a * da * S**2 + s * ds) / (a**2 * S**2 + s**2) * (x - a * M)


@pytest.fixture(params=["linear", "cosine"])
def path(request):
    return request.param


def test_path_ends_and_derivatives(path):
    a, s, _, _ = path_coefficients(torch.tensor([0.0, 1.0], dtype=torch.float64), path)
    assert torch.allclose(a, torch.tensor([1.0, 0.0], dtype=torch.float64), atol=1e-12)
    assert torch.allclose(s, torch.tensor([0.0, 1.0], dtype=torch.float64), atol=1e-12)
    t = torch.linspace(0.05, 0.95, 7, dtype=torch.float64)
    h = 1e-6
    a1, s1, _, _ = path_coefficients(t + h, path)
    a0, s0, _, _ = path_coefficients(t - h, path)
    _, _, da, ds = path_coefficients(t, path)
    assert torch.allclose(da, (a1 - a0) / (2 * h), atol=1e-8)
    assert torch.allclose(ds, (s1 - s0) / (2 * h), atol=1e-8)


def test_conditional_velocity_is_the_time_derivative_of_the_path(path, randn):
    x0, noise = randn(5, 3, seed=1), randn(5, 3, seed=2)
    t = torch.tensor([0.0, 0.2, 0.5, 0.8, 0.99], dtype=torch.float64)  # per-sample times
    h = 1e-6
    fd = interpolate(x0, noise, t + h, path) - interpolate(x0, noise, (t - h).clamp(0), path)
    fd = fd / (t + h - (t - h).clamp(0)).view(-1, 1)
    assert torch.allclose(conditional_velocity(x0, noise, t, path), fd, atol=1e-6)
    if path == "linear":
        assert torch.allclose(conditional_velocity(x0, noise, t, path), noise - x0)


def test_conversions_recover_the_pair_that_made_the_point(path, randn):
    x0, noise = randn(6, 2, seed=3), randn(6, 2, seed=4)
    t = torch.tensor([0.1, 0.3, 0.5, 0.6, 0.75, 0.9], dtype=torch.float64)
    x_t = interpolate(x0, noise, t, path)
    v = conditional_velocity(x0, noise, t, path)
    sigma = path_coefficients(t, path)[1].view(-1, 1)
    assert torch.allclose(velocity_to_x0(v, x_t, t, path), x0, atol=1e-12)
    assert torch.allclose(velocity_to_eps(v, x_t, t, path), noise, atol=1e-12)
    assert torch.allclose(velocity_to_score(v, x_t, t, path), -noise / sigma, atol=1e-10)
    assert torch.allclose(x0_to_velocity(x0, x_t, t, path), v, atol=1e-10)
    assert torch.allclose(eps_to_velocity(noise, x_t, t, path), v, atol=1e-10)
    assert torch.allclose(score_to_velocity(-noise / sigma, x_t, t, path), v, atol=1e-10)


def test_gmm_velocity_matches_the_gaussian_closed_form(path, randn):
    x = randn(8, 2, seed=5) * 2
    t = torch.tensor([0.0, 0.01, 0.2, 0.4, 0.5, 0.7, 0.99, 1.0], dtype=torch.float64)
    assert torch.allclose(gmm_velocity(x, t, gaussian(), path), gaussian_velocity(x, t, path),
                          atol=1e-12)  # fmt: skip


def test_gmm_velocity_is_the_library_score_converted(path, randn):
    """An independent route: the VP mixture score of diffcourse.scores, rescaled to the path."""
    mixture = gaussian_mixture_2d([[-2.0, 0.0], [1.5, 1.0], [0.5, -2.0]], [0.3, 0.5, 0.4],
                                  [0.5, 0.3, 0.2])  # fmt: skip
    x = randn(7, 2, seed=6) * 2
    t = torch.tensor([0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95], dtype=torch.float64)
    a, s, _, _ = path_coefficients(t, path)
    c = (a**2 + s**2).sqrt()  # x_t / c is a VP variable with abar = a^2 / c^2
    score = gmm_noised_score(x / c[:, None], a**2 / c**2, mixture) / c[:, None]
    expected = score_to_velocity(score, x, t, path)
    assert torch.allclose(gmm_velocity(x, t, mixture, path), expected, atol=1e-10)


def test_cfm_minimiser_is_the_marginal_velocity(path):
    """Least squares over affine fields on CFM samples at fixed t recovers the closed form,
    and the CFM loss exceeds its minimum by exactly E||delta||^2 (up to sampling noise)."""
    g = torch.Generator().manual_seed(7)
    n, t0 = 200_000, 0.4
    x0 = M + S * torch.randn(n, 2, generator=g, dtype=torch.float64)
    noise = torch.randn(n, 2, generator=g, dtype=torch.float64)
    t = torch.full((n,), t0, dtype=torch.float64)
    x_t, u = interpolate(x0, noise, t, path), conditional_velocity(x0, noise, t, path)
    feats = torch.cat([x_t, torch.ones(n, 1, dtype=torch.float64)], dim=1)
    coef = torch.linalg.lstsq(feats, u).solution  # (3, 2): the CFM-optimal affine field
    probe = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    fitted = torch.cat([probe, torch.ones(3, 1, dtype=torch.float64)], dim=1) @ coef
    exact = gaussian_velocity(probe, torch.full((3,), t0, dtype=torch.float64), path)
    assert torch.allclose(fitted, exact, atol=0.01)

    def best(x, tt):
        return gaussian_velocity(x, tt, path)

    def shifted(x, tt):
        return best(x, tt) + 0.3 * torch.tanh(x)

    gap = cfm_loss(shifted, x0, noise, t, path) - cfm_loss(best, x0, noise, t, path)
    expected = (0.3 * torch.tanh(x_t)).pow(2).mean()
    assert gap == pytest.approx(expected.item(), rel=0.03)
    # A wrong field, the conditional velocity with x0 replaced by the data mean, is worse.
    wrong = lambda x, tt: conditional_velocity(M.expand_as(x), (x - (1 - t0) * M) / t0, tt, path)
    if path == "linear":
        assert cfm_loss(wrong, x0, noise, t, path) > cfm_loss(best, x0, noise, t, path) + 0.01


def _flow_map_error(method, n, randn, path):
    z = randn(64, 2, seed=8)
    x = flow_sample(lambda x, t: gaussian_velocity(x, t, path), z, n, method)
    return (x - (M + S * z)).abs().max().item()  # the exact flow map sends z to M + S z


@pytest.mark.parametrize("method, order", [("euler", 1), ("heun", 2)])
def test_flow_sample_converges_to_the_exact_map_at_its_order(method, order, randn, path):
    errors = [_flow_map_error(method, n, randn, path) for n in (20, 40, 80)]
    for e1, e2 in zip(errors, errors[1:], strict=False):
        assert 2**order * 0.75 < e1 / e2 < 2**order * 1.3, errors


def test_flow_sample_returns_the_trajectory(randn):
    z = randn(4, 2, seed=9)
    x, traj = flow_sample(lambda x, t: -x, z, 5, return_trajectory=True)
    assert traj.shape == (6, 4, 2)
    assert torch.equal(traj[0], z) and torch.equal(traj[-1], x)
    assert torch.allclose(x, z * 1.2**5)  # dx/dt = -x, five Euler steps of dt = -0.2


def test_reflow_pairs_of_the_gaussian_flow_are_its_affine_map(randn):
    z = randn(32, 2, seed=10)
    x0, noise = reflow_pairs(lambda x, t: gaussian_velocity(x, t, "linear"), z, 200)
    assert noise is z
    assert torch.allclose(x0, M + S * z, atol=1e-5)


def test_straightness_of_a_line_and_of_a_quarter_circle():
    s = torch.linspace(0, 1, 1001, dtype=torch.float64)
    line = torch.stack([1 - 3 * s, 2 * s], dim=1)[:, None, :]  # (1001, 1, 2)
    assert straightness(line).item() == pytest.approx(0.0, abs=1e-20)
    arc = torch.stack([torch.cos(math.pi / 2 * s), torch.sin(math.pi / 2 * s)], dim=1)[:, None]
    # S = int ||p'||^2 - ||p(1) - p(0)||^2 = pi^2 / 4 - 2
    assert straightness(arc).item() == pytest.approx(math.pi**2 / 4 - 2, rel=1e-4)


def test_one_euler_step_of_the_marginal_flow_lands_on_the_data_mean(randn):
    """v(x, 1) = x - E[x0] on the linear path, so x_1 - v(x_1, 1) = E[x0] for every x_1."""
    mixture = gaussian_mixture_2d([[-2.0, 1.0], [2.0, 1.0], [0.0, -2.0]], 0.3, [0.2, 0.3, 0.5])
    x = flow_sample(lambda x, t: gmm_velocity(x, t, mixture), randn(16, 2, seed=11), 1)
    mean = (mixture.weights[:, None] * mixture.means).sum(0)
    assert torch.allclose(x, mean.expand_as(x), atol=1e-12)


def gaussian_consistency(x, t):
    """The exact consistency function of N(M, S^2 I) data on the linear path."""
    a, s, _, _ = (c.view(-1, 1) for c in path_coefficients(t, "linear"))
    return M + S * (x - a * M) / (a**2 * S**2 + s**2).sqrt()


def test_the_consistency_parametrisation_keeps_the_boundary_condition(randn):
    x = randn(4, 2, seed=12)
    f = consistency_function(lambda x, t: torch.sin(x) * 7, x, torch.zeros(4, dtype=x.dtype))
    assert torch.equal(f, x)


def test_consistency_distillation_loss_vanishes_at_the_exact_function_at_solver_order(randn):
    x0 = M + S * randn(4096, 2, seed=13)
    noise = randn(4096, 2, seed=14)
    t = 0.2 + 0.7 * torch.rand(4096, generator=torch.Generator().manual_seed(15)).double()
    teacher = lambda x, tt: gaussian_velocity(x, tt, "linear")

    def loss(h, f=gaussian_consistency, method="heun"):
        return consistency_distillation_loss(f, f, teacher, x0, noise, t, t - h, method=method)

    heun = [loss(h).item() for h in (0.04, 0.02)]
    assert heun[0] < 1e-8 and 40 < heun[0] / heun[1] < 100, heun  # (h^3)^2: 64
    euler = [loss(h, method="euler").item() for h in (0.04, 0.02)]
    assert 10 < euler[0] / euler[1] < 22, euler  # (h^2)^2: 16
    # Any fixed map of f* (say 1.1 f*) is self-consistent too: only the boundary condition
    # f(x, 0) = x rules it out. A time-dependent error is not self-consistent:
    wrong = lambda x, tt: gaussian_consistency(x, tt) + 0.1 * tt.view(-1, 1)
    assert loss(0.02, wrong).item() > 1e3 * heun[1]


def test_consistency_sampling_with_the_exact_function_samples_the_data(randn):
    z = randn(100_000, 2, seed=16)
    one = consistency_sample(gaussian_consistency, z, [])
    assert torch.allclose(one, M + S * z, atol=1e-12)
    g = torch.Generator().manual_seed(17)
    x = consistency_sample(gaussian_consistency, z, [0.7, 0.3], generator=g)
    assert torch.allclose(x.mean(0), M, atol=0.01)
    assert torch.allclose(torch.cov(x.T), S**2 * torch.eye(2, dtype=x.dtype), atol=0.01)
    with pytest.raises(ValueError, match="times must decrease"):
        consistency_sample(gaussian_consistency, z, [0.3, 0.7])


def test_bad_arguments_are_named():
    x = torch.zeros(2, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="path must be one of"):
        interpolate(x, x, 0.5, "sigmoid")
    with pytest.raises(ValueError, match="t must lie in"):
        path_coefficients(torch.tensor([1.5]))
    with pytest.raises(ValueError, match="float time"):
        path_coefficients(torch.tensor([1]))
    with pytest.raises(ValueError, match="same shape"):
        interpolate(x, torch.zeros(2, 3), 0.5)
    with pytest.raises(ValueError, match="num_steps"):
        flow_sample(lambda x, t: x, x, 0)
    with pytest.raises(ValueError, match="method"):
        flow_sample(lambda x, t: x, x, 2, "rk4")


# --------------------------------------------------------------- progressive distillation


def test_progressive_target_is_two_euler_steps_by_hand(randn):
    """v(x, t) = t x: two Euler steps of h from t give x (1 - h t)(1 - h (t - h))."""
    x = randn(3, 3, seed=20)
    t = torch.tensor([1.0, 0.5, 0.25], dtype=torch.float64)
    step = 0.25
    h = step / 2
    landed = x * ((1 - h * t) * (1 - h * (t - h)))[:, None]
    target = progressive_distillation_target(lambda y, tt: tt[:, None] * y, x, t, step)
    assert torch.allclose(target, (x - landed) / step, atol=1e-14, rtol=0)
    # Euler follows a constant field exactly: the target is the field itself
    const = progressive_distillation_target(lambda y, tt: torch.ones_like(y) * 3, x, t, step)
    assert torch.allclose(const, torch.full_like(x, 3.0), atol=1e-14, rtol=0)


@pytest.mark.parametrize("method", ["euler", "heun"])
def test_students_that_match_the_target_halve_the_steps_round_after_round(method, randn):
    """A student equal to its target samples with N steps what its teacher samples with 2N;
    three rounds from an 8-step teacher give a 1-step sampler equal to it."""
    mixture = gaussian_mixture_2d([[-2.0, 1.0], [2.0, 1.0], [0.0, -2.0]], 0.3, [0.2, 0.3, 0.5])
    teacher = lambda x, t: gmm_velocity(x, t, mixture)
    z = randn(64, 2, seed=21)
    reference = flow_sample(teacher, z, 8, method)

    def distilled(parent, step, how):
        return lambda x, t: progressive_distillation_target(parent, x, t, step, how)

    student, steps = teacher, 8
    for round_ in range(3):
        steps //= 2
        # the students are Euler samplers: the teacher's Heun steps are inside the first target
        student = distilled(student, 1 / steps, method if round_ == 0 else "euler")
        got = flow_sample(student, z, steps, "euler")
        assert torch.allclose(got, reference, atol=1e-12), (method, steps)
    assert steps == 1


def test_progressive_loss_vanishes_at_the_target_and_trains_only_the_student(randn):
    teacher_net = torch.nn.Linear(2, 2).double()
    teacher = lambda x, t: teacher_net(x) * t[:, None]
    x0, noise = randn(16, 2, seed=22), randn(16, 2, seed=23)
    t = torch.full((16,), 0.5, dtype=torch.float64)
    exact = lambda x, tt: progressive_distillation_target(teacher, x, tt, 0.5)
    assert progressive_distillation_loss(exact, teacher, x0, noise, t, 0.5).item() < 1e-28
    student_net = torch.nn.Linear(2, 2).double()
    loss = progressive_distillation_loss(lambda x, tt: student_net(x), teacher, x0, noise, t, 0.5)
    loss.backward()
    assert student_net.weight.grad is not None and student_net.weight.grad.abs().sum() > 0
    assert teacher_net.weight.grad is None


def test_progressive_target_refuses_a_step_past_zero(randn):
    x = randn(2, 2, seed=24)
    with pytest.raises(ValueError, match="step"):
        progressive_distillation_target(lambda y, t: y, x, torch.tensor([0.5, 0.2]).double(), 0.25)
    with pytest.raises(ValueError, match="method"):
        progressive_distillation_target(lambda y, t: y, x, torch.ones(2).double(), 0.5, "rk4")
