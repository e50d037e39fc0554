"""slerp: endpoints, the great circle, per-row angles, no NaN for identical/opposite rows."""

import math

import pytest
import torch

from diffcourse.interpolation import slerp

pytestmark = pytest.mark.usefixtures("one_thread")


def test_endpoints_and_closed_form_on_the_unit_circle(randn):
    z0, z1 = randn(4, 3, 2, seed=1), randn(4, 3, 2, seed=2)
    torch.testing.assert_close(slerp(z0, z1, 0.0), z0, rtol=0, atol=1e-12)
    torch.testing.assert_close(slerp(z0, z1, 1.0), z1, rtol=0, atol=1e-12)
    e0 = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    e1 = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    for a in (0.1, 0.5, 0.8):
        expected = torch.tensor(
            [[math.cos(a * math.pi / 2), math.sin(a * math.pi / 2)]], dtype=torch.float64
        )
        torch.testing.assert_close(slerp(e0, e1, a), expected, rtol=0, atol=1e-12)


def test_norm_preserved_for_unit_vectors(randn):
    z0, z1 = randn(16, 64, seed=3), randn(16, 64, seed=4)
    z0, z1 = z0 / z0.norm(dim=1, keepdim=True), z1 / z1.norm(dim=1, keepdim=True)
    for a in (0.25, 0.5, 0.9):
        torch.testing.assert_close(
            slerp(z0, z1, a).norm(dim=1), torch.ones(16, dtype=torch.float64)
        )
    # Gaussian noise in high dimension: slerp stays on the shell, lerp dips to ~0.71.
    g0, g1 = randn(8, 4096, seed=5), randn(8, 4096, seed=6)
    mid = slerp(g0, g1, 0.5).norm(dim=1) / math.sqrt(4096)
    assert torch.all((mid - 1).abs() < 0.05)
    assert torch.all((((g0 + g1) / 2).norm(dim=1) / math.sqrt(4096) - 0.71).abs() < 0.03)


def test_one_angle_per_row(randn):
    z0, z1 = randn(5, 2, 4, seed=7), randn(5, 2, 4, seed=8)
    z1[0] = z0[0] * 3  # a row with a very different angle from the others
    alpha = torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9], dtype=torch.float64)
    batched = slerp(z0, z1, alpha)
    for b in range(5):
        row = slerp(z0[b : b + 1], z1[b : b + 1], alpha[b].item())
        torch.testing.assert_close(batched[b : b + 1], row, rtol=1e-12, atol=1e-12)


def test_identical_and_opposite_rows_give_no_nan(randn):
    z0 = randn(3, 10, seed=9)
    z1 = torch.stack([z0[0], -z0[1], randn(10, seed=10)])
    out = slerp(z0, z1, 0.3)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[0], z0[0], rtol=0, atol=1e-12)  # identical: stays put
    torch.testing.assert_close(out[1], 0.7 * z0[1] - 0.3 * z0[1])  # opposite: lerp fallback
    # Float32 rounding can push the cosine of identical rows above 1.
    x = randn(64, 37, seed=11).float()
    assert torch.isfinite(slerp(x, x.clone(), 0.5)).all()
    with pytest.raises(ValueError, match="same shape"):
        slerp(z0, z0[:, :5], 0.5)
