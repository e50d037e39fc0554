"""Sample-set distances against closed forms and naive implementations."""

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from diffcourse.metrics import (
    frechet_distance,
    knn_precision_recall,
    mean_cov_error,
    mmd,
    nearest_neighbour_distance,
    sliced_wasserstein,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_sliced_wasserstein_of_a_shift(randn):
    # y = x + m: every sorted projection moves by theta . m, so SW2^2 = E (theta . m)^2 = |m|^2 / D.
    x = randn(500, 4, seed=1)
    m = torch.tensor([1.0, -2.0, 0.5, 0.0], dtype=torch.float64)
    sw = sliced_wasserstein(x, x + m, 4000, torch.Generator().manual_seed(0))
    assert sw.dtype == torch.float32
    assert sw.item() == pytest.approx((m.norm() ** 2 / 4).sqrt().item(), rel=0.03)
    assert sliced_wasserstein(x, x, 50, torch.Generator().manual_seed(0)).item() == 0.0


def test_sliced_wasserstein_one_dimension_is_w2(randn):
    # In 1-D every projection is +-1: SW2 is W2 between the empirical distributions.
    x, y = randn(300, 1, seed=2), 2 + 3 * randn(300, 1, seed=3)
    w2 = ((x.sort(0).values - y.sort(0).values) ** 2).mean().sqrt()
    assert sliced_wasserstein(x, y, 8).item() == pytest.approx(w2.item(), rel=1e-5)
    # Unequal sizes: compared at common quantile levels, close to the equal-size value.
    assert sliced_wasserstein(x, y[:150], 8).item() == pytest.approx(w2.item(), rel=0.15)


def test_mmd_matches_a_naive_double_loop(randn):
    x, y = randn(12, 3, seed=4), randn(9, 3, seed=5) + 0.5
    k = lambda a, b: float(np.exp(-((a - b) ** 2).sum() / (2 * 1.5**2)))
    X, Y = x.numpy(), y.numpy()
    xx = sum(k(X[i], X[j]) for i in range(12) for j in range(12) if i != j) / (12 * 11)
    yy = sum(k(Y[i], Y[j]) for i in range(9) for j in range(9) if i != j) / (9 * 8)
    xy = sum(k(a, b) for a in X for b in Y) / (12 * 9)
    assert mmd(x, y, 1.5).item() == pytest.approx(xx + yy - 2 * xy, rel=1e-10)
    assert mmd(x, x, 1.5, unbiased=False).item() == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="bandwidth"):
        mmd(x, y, 0.0)


def test_mean_cov_error(randn):
    x = randn(400, 3, seed=6)
    y = x * 2 + 1
    mean_err, cov_err = mean_cov_error(x, y)
    torch.testing.assert_close(mean_err, (x.mean(0) - y.mean(0)).norm())
    torch.testing.assert_close(cov_err, (torch.cov(x.T) * 3).norm())  # cov(2x) - cov(x) = 3 cov(x)


def test_frechet_distance_against_scipy(randn):
    x = randn(300, 5, seed=7) @ randn(5, 5, seed=8)
    y = randn(250, 5, seed=9) @ randn(5, 5, seed=10) + 0.3
    mu1, mu2 = x.mean(0).numpy(), y.mean(0).numpy()
    c1, c2 = np.cov(x.numpy().T), np.cov(y.numpy().T)
    covmean = scipy.linalg.sqrtm(c1 @ c2).real
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(c1 + c2 - 2 * covmean)
    assert frechet_distance(x, y).item() == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(x, x).item() == pytest.approx(0.0, abs=1e-8)
    with pytest.raises(ValueError, match="shapes"):
        frechet_distance(x, y[:, :3])


# ----------------------------------------------------------------- k-NN metrics


def _brute_kth(q, ref, k, exclude_self):
    out = []
    for i in range(q.shape[0]):
        ds = sorted(
            math.dist(q[i].tolist(), ref[j].tolist())
            for j in range(ref.shape[0])
            if not (exclude_self and j == i)
        )
        out.append(ds[k - 1])
    return torch.tensor(out, dtype=torch.float64)


def test_nearest_neighbour_distance_matches_brute_force(randn):
    a, b = randn(12, 3, seed=20), randn(9, 3, seed=21)
    assert torch.allclose(nearest_neighbour_distance(a, b, 2), _brute_kth(a, b, 2, False))
    assert torch.allclose(nearest_neighbour_distance(a, a, 3, exclude_self=True),
                          _brute_kth(a, a, 3, True))  # fmt: skip
    with pytest.raises(ValueError, match="k = 9"):
        nearest_neighbour_distance(a, b, 9, exclude_self=True)


def test_precision_recall_match_a_brute_force_count(randn):
    real, fake = randn(15, 2, seed=22), randn(11, 2, seed=23) * 1.5 + 0.3
    k = 2
    r_real, r_fake = _brute_kth(real, real, k, True), _brute_kth(fake, fake, k, True)
    prec = sum(
        any(math.dist(f.tolist(), r.tolist()) <= r_real[j] for j, r in enumerate(real))
        for f in fake
    ) / len(fake)
    rec = sum(
        any(math.dist(r.tolist(), f.tolist()) <= r_fake[j] for j, f in enumerate(fake))
        for r in real
    ) / len(real)
    assert knn_precision_recall(real, fake, k) == pytest.approx((prec, rec))


def test_precision_recall_see_fidelity_and_coverage_separately(randn):
    cluster = randn(50, 2, seed=24) * 0.1
    real = torch.cat([cluster, cluster + 10])  # two far clusters
    assert knn_precision_recall(real, real.clone()) == (1.0, 1.0)
    assert knn_precision_recall(real, cluster.clone()) == (1.0, 0.5)  # one mode dropped
    assert knn_precision_recall(real, cluster + 5) == (0.0, 0.0)  # all off the data
