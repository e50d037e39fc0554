"""Score distillation: the gradient formula, the renderer, and mode seeking on a Gaussian."""

import pytest
import torch

from diffcourse.forward import q_sample
from diffcourse.sds import render_occupancy, sds_grad, sds_optimize

pytestmark = pytest.mark.usefixtures("one_thread")


def test_sds_grad_formula_and_weights(abar_cosine, randn):
    seen = []

    def model(x_t, t, labels=None):
        seen.append(x_t)
        return 2 * x_t + 1

    x = randn(3, 1, 2, 2, seed=1).requires_grad_(True)
    noise, t = randn(3, 1, 2, 2, seed=2), torch.tensor([900, 500, 100])
    a = abar_cosine[t].view(-1, 1, 1, 1)
    x_t = q_sample(x.detach(), t, noise, abar_cosine)
    direction = 2 * x_t + 1 - noise
    g = sds_grad(model, x, t, noise, alphas_cumprod=abar_cosine)
    torch.testing.assert_close(g, (1 - a) * direction)  # default w = 1 - abar = sigma_t^2
    torch.testing.assert_close(seen[0], x_t)
    assert g.grad_fn is None  # the network's Jacobian is dropped
    g = sds_grad(model, x, t, noise, alphas_cumprod=abar_cosine, weight=lambda ab: ab.sqrt())
    torch.testing.assert_close(g, a.sqrt() * direction)
    g = sds_grad(model, x, t, noise, alphas_cumprod=abar_cosine, weight=1.0)
    torch.testing.assert_close(g, direction)
    (sds_grad(model, x, t, noise, alphas_cumprod=abar_cosine) * x).sum().backward()
    torch.testing.assert_close(x.grad, (1 - a) * direction)


def test_render_occupancy(randn):
    grid = torch.rand(2, 3, 4, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    front = render_occupancy(grid, axis=1)  # (2, 4, 5)
    expected = torch.ones(2, 4, 5, dtype=torch.float64)
    for d in range(3):
        expected = expected * (1 - grid[:, d])
    torch.testing.assert_close(front, 1 - expected)
    g = torch.zeros(1, 3, 3)
    g[0, 1, 2] = 1.0  # one full voxel: its ray is fully bright, the others dark
    img = render_occupancy(g, axis=1)
    assert img[0, 2].item() == 1.0 and img.sum().item() == 1.0
    with pytest.raises(ValueError, match="occupancy"):
        render_occupancy(g + 2, axis=0)


def test_sds_optimize_finds_the_mode_of_a_gaussian(abar_cosine):
    # Exact eps for data N(mu_y, 0.1 I): SDS drives a free image to the class mean.
    means = torch.tensor([[-0.5, 0.5, 0.2, -0.1], [0.6, -0.6, 0.0, 0.3]], dtype=torch.float64)

    def model(x, t, labels=None):
        a = abar_cosine[t].view(-1, 1, 1, 1)
        mu = means[labels].view(-1, 1, 2, 2)
        return (1 - a).sqrt() * (x - a.sqrt() * mu) / (a * 0.1 + 1 - a)

    param = torch.zeros(2, 1, 2, 2, dtype=torch.float64, requires_grad=True)
    sds_optimize(model, [param], lambda p: p[0], abar_cosine, labels=torch.tensor([0, 1]),
                 num_iters=400, lr=0.02, generator=torch.Generator().manual_seed(0))  # fmt: skip
    torch.testing.assert_close(param.detach().view(2, 4), means, rtol=0, atol=0.1)
