"""Views are orthogonal with exact inverses; multi-view averaging matches a closed form."""

import pytest
import torch

from diffcourse.guidance import cfg_prediction
from diffcourse.illusions import (
    HFlip,
    Identity,
    Permutation,
    Rot90,
    Rot180,
    Rot270,
    VFlip,
    anagram_sample,
    multiview_prediction,
)

pytestmark = pytest.mark.usefixtures("one_thread")

PERM = torch.randperm(16, generator=torch.Generator().manual_seed(0))
VIEWS = [Identity(), HFlip(), VFlip(), Rot90(), Rot180(), Rot270(), Permutation(PERM)]


def _matrix(view, shape=(2, 4, 4)):
    """The view as a matrix: its action on each basis image."""
    n = torch.Size(shape).numel()
    basis = torch.eye(n, dtype=torch.float64).view(n, *shape)
    return view.apply(basis).reshape(n, n).T  # column j = view(e_j)


@pytest.mark.parametrize("view", VIEWS, ids=repr)
def test_each_view_is_orthogonal_with_an_exact_inverse(view, randn):
    M = _matrix(view)
    torch.testing.assert_close(M @ M.T, torch.eye(32, dtype=torch.float64), rtol=0, atol=0)
    x = randn(3, 2, 4, 4, seed=1)
    torch.testing.assert_close(view.inverse(view.apply(x)), x, rtol=0, atol=0)
    torch.testing.assert_close(view.apply(view.inverse(x)), x, rtol=0, atol=0)
    # The inverse is the transpose.
    inv = view.inverse(torch.eye(32, dtype=torch.float64).view(32, 2, 4, 4)).reshape(32, 32).T
    torch.testing.assert_close(inv, M.T, rtol=0, atol=0)


def test_rot90_is_not_its_own_inverse(randn):
    x = randn(1, 1, 4, 4, seed=2)
    assert not torch.equal(Rot90().apply(x), Rot90().inverse(x))
    torch.testing.assert_close(Rot90().inverse(x), Rot270().apply(x), rtol=0, atol=0)
    torch.testing.assert_close(Rot90().apply(Rot90().apply(x)), Rot180().apply(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match="square"):
        Rot90().apply(torch.zeros(1, 1, 2, 3))
    with pytest.raises(ValueError, match="permutation"):
        Permutation([0, 0, 1])


MEANS = torch.randn(11, 1, 4, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
S2 = 0.25  # class y: x0 ~ N(MEANS[y], S2 I); label 10 is the "null" class


def gaussian_class_eps(x, a, means):
    """Exact eps_hat for Gaussian data N(means, S2 I) under VP noising."""
    a = a.view(-1, 1, 1, 1)
    return (1 - a).sqrt() * (x - a.sqrt() * means) / (a * S2 + 1 - a)


class GaussianClasses:
    num_classes = 10

    def __init__(self, abar):
        self.abar, self.calls = abar, 0

    def __call__(self, x, t, labels=None):
        self.calls += 1
        return gaussian_class_eps(x, self.abar[t], MEANS[labels])


def test_multiview_average_matches_the_closed_form(abar_cosine, randn):
    # With an orthogonal view R: mean(eps_a(x), R^T eps_b(R x)) is the eps of
    # N((mu_a + R^T mu_b) / 2, S2 I). Rot90 tells apply from inverse apart.
    model = GaussianClasses(abar_cosine)
    x, t = randn(3, 1, 4, 4, seed=4), torch.tensor([900, 400, 20])
    got = multiview_prediction(model, x, t, [Identity(), Rot90()], [1, 7])
    mu = (MEANS[1] + Rot90().inverse(MEANS[7][None])[0]) / 2
    torch.testing.assert_close(got, gaussian_class_eps(x, abar_cosine[t], mu.expand(3, 1, 4, 4)))
    assert model.calls == 1  # all views in one batched call


def test_multiview_guidance_equals_guiding_each_view(abar_cosine, randn):
    model = GaussianClasses(abar_cosine)
    x, t = randn(2, 1, 4, 4, seed=5), torch.tensor([700, 50])
    views, labels = [Identity(), Rot90(), HFlip()], [torch.tensor([1, 2]), 3, 4]
    got = multiview_prediction(model, x, t, views, labels, guidance_scale=3.0)
    per_view = [
        v.inverse(cfg_prediction(model, v.apply(x), t, torch.as_tensor(y).expand(2), 3.0, 10))
        for v, y in zip(views, labels, strict=True)
    ]
    torch.testing.assert_close(got, torch.stack(per_view).mean(0))


def test_anagram_sample_runs_and_is_reproducible(abar_cosine):
    model = GaussianClasses(abar_cosine)
    kw = dict(num_steps=10, guidance_scale=2.0, dtype=torch.float64)
    a = anagram_sample(model, (3, 1, 4, 4), abar_cosine, [Identity(), Rot180()], [1, 7],
                       generator=torch.Generator().manual_seed(0), **kw)  # fmt: skip
    b = anagram_sample(model, (3, 1, 4, 4), abar_cosine, [Identity(), Rot180()], [1, 7],
                       generator=torch.Generator().manual_seed(0), **kw)  # fmt: skip
    assert a.shape == (3, 1, 4, 4) and torch.isfinite(a).all()
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    # Exact Gaussian classes: the sample's mean is near (mu_1 + R^T mu_7) / 2.
    many = anagram_sample(model, (400, 1, 4, 4), abar_cosine, [Identity(), Rot180()], [1, 7],
                          generator=torch.Generator().manual_seed(1), num_steps=50,
                          dtype=torch.float64)  # fmt: skip
    target = (MEANS[1] + Rot180().inverse(MEANS[7][None])[0]) / 2
    assert (many.mean(0) - target).abs().max() < 0.1
