"""Distances between sample sets, for judging samplers on toy data and features.

All take point clouds x (n, D) and y (m, D). Random projections come from a
``torch.Generator`` so a metric is reproducible.
"""

import torch

__all__ = [
    "sliced_wasserstein",
    "mmd",
    "mean_cov_error",
    "frechet_distance",
    "nearest_neighbour_distance",
    "knn_precision_recall",
]


def _check_clouds(x, y):
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(
            f"x and y must have shapes (n, D) and (m, D), got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise ValueError("x and y need at least two points each")


def _quantiles(sorted_proj, k):
    """Rows of a sorted (n, P) projection at the k quantile levels (i + 1/2) / k."""
    n = sorted_proj.shape[0]
    if n == k:
        return sorted_proj
    idx = ((torch.arange(k, device=sorted_proj.device) + 0.5) * n / k).long().clamp(max=n - 1)
    return sorted_proj[idx]


def sliced_wasserstein(x, y, num_projections=256, generator=None):
    """Sliced 2-Wasserstein distance sqrt(E_theta W2^2(theta . x, theta . y)), theta on the sphere.

    In one dimension W2 between two empirical distributions compares sorted samples
    (quantile functions); unequal sizes are compared at common quantile levels.
    Computed in float32: a 2000 x 1000 projection is 8 MB rather than 16.
    """
    _check_clouds(x, y)
    x, y = x.float(), y.float()
    D = x.shape[1]
    device = generator.device if generator is not None else x.device
    theta = torch.randn(D, num_projections, generator=generator, device=device).to(x.device)
    theta = theta / theta.norm(dim=0, keepdim=True)  # (D, P) unit directions
    px = (x @ theta).sort(dim=0).values  # (n, P)
    py = (y.to(x.device) @ theta).sort(dim=0).values  # (m, P)
    k = max(px.shape[0], py.shape[0])
    sq = (_quantiles(px, k) - _quantiles(py, k)) ** 2  # (k, P)
    return sq.mean().sqrt()


def mmd(x, y, bandwidth, unbiased=True):
    """Squared maximum mean discrepancy with the RBF kernel exp(-||a - b||^2 / (2 bandwidth^2)).

    MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y). The unbiased estimate leaves the
    diagonal out of the within-set averages (it can be slightly negative); the biased
    one keeps it (>= 0).
    """
    _check_clouds(x, y)
    if not bandwidth > 0:
        raise ValueError(f"bandwidth must be positive, got {bandwidth!r}")
    y = y.to(x)
    k = lambda a, b: torch.exp(-(torch.cdist(a, b) ** 2) / (2 * bandwidth**2))
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = x.shape[0], y.shape[0]
    if unbiased:
        xx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
        yy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    else:
        xx, yy = kxx.mean(), kyy.mean()
    return xx + yy - 2 * kxy.mean()


def mean_cov_error(x, y):
    """(||mean(x) - mean(y)||_2, ||cov(x) - cov(y)||_F): do the first two moments agree?"""
    _check_clouds(x, y)
    y = y.to(x)
    mean_err = (x.mean(0) - y.mean(0)).norm()
    cov_err = (
        torch.cov(x.T).reshape(x.shape[1], -1) - torch.cov(y.T).reshape(x.shape[1], -1)
    ).norm()
    return mean_err, cov_err


def _sqrtm_psd(C):
    """Symmetric square root of a positive semi-definite matrix (eigenvalues clamped at 0)."""
    vals, vecs = torch.linalg.eigh(C)
    return (vecs * vals.clamp(min=0).sqrt()) @ vecs.T


def frechet_distance(feat_x, feat_y):
    """Frechet distance between Gaussians fitted to two feature sets (the FID formula).

    ||mu_x - mu_y||^2 + Tr(C_x + C_y - 2 (C_x^{1/2} C_y C_x^{1/2})^{1/2}), in float64.
    """
    _check_clouds(feat_x, feat_y)
    x, y = feat_x.double(), feat_y.to(feat_x.device).double()
    mu_x, mu_y = x.mean(0), y.mean(0)
    C_x = torch.cov(x.T).reshape(x.shape[1], -1)
    C_y = torch.cov(y.T).reshape(x.shape[1], -1)
    root_x = _sqrtm_psd(C_x)
    cross = _sqrtm_psd(root_x @ C_y @ root_x)
    return ((mu_x - mu_y) ** 2).sum() + torch.trace(C_x) + torch.trace(C_y) - 2 * torch.trace(cross)


def nearest_neighbour_distance(query, reference, k=1, exclude_self=False):
    """Distance from each query point (n, D) to its k-th nearest reference point (m, D) -> (n,).

    With ``exclude_self`` (query and reference are the same set) a point is not its own
    neighbour. Comparing the distances of generated samples to the training set with those
    of held-out data is a memorisation test: copies sit much closer than fresh data does.
    """
    _check_clouds(query, reference)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    reference = reference.to(query)
    skip = 1 if exclude_self else 0
    if k + skip > reference.shape[0]:
        raise ValueError(f"k = {k} needs more than {reference.shape[0]} reference points")
    d = torch.cdist(query.double(), reference.double())  # (n, m)
    return d.topk(k + skip, dim=1, largest=False).values[:, -1]


def knn_precision_recall(real, fake, k=3):
    """Improved precision and recall (Kynkaanniemi et al. 2019) with k-NN balls.

    Each real point gets a ball reaching its k-th nearest other real point; precision is
    the fraction of fake points inside at least one real ball (fidelity). Recall swaps
    the roles: the fraction of real points inside some fake ball (coverage).
    """
    _check_clouds(real, fake)
    real, fake = real.double(), fake.to(real.device).double()
    r_real = nearest_neighbour_distance(real, real, k, exclude_self=True)  # (n,)
    r_fake = nearest_neighbour_distance(fake, fake, k, exclude_self=True)  # (m,)
    d = torch.cdist(fake, real)  # (m, n)
    precision = (d <= r_real[None, :]).any(dim=1).double().mean()
    recall = (d.T <= r_fake[None, :]).any(dim=1).double().mean()
    return precision.item(), recall.item()
