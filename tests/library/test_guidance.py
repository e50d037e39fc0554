"""Classifier-free guidance (one batched call, halves in order) and classifier guidance."""

import pytest
import torch

from diffcourse.guidance import cfg_prediction, classifier_guidance
from diffcourse.samplers import ddim_sample
from diffcourse.scores import GaussianMixture, gmm_noised_score

pytestmark = pytest.mark.usefixtures("one_thread")


class Recorder:
    """A fake class-conditional model: output depends on the label; records every call."""

    num_classes = 10

    def __init__(self):
        self.calls = []

    def __call__(self, x, t, labels=None):
        self.calls.append((x.clone(), t.clone(), labels.clone()))
        return x * (labels.to(x.dtype) + 1).view(-1, *([1] * (x.ndim - 1))) + t.view(-1, 1) * 1e-3


@pytest.mark.parametrize("w", [0.0, 1.0, 3.5])
def test_cfg_is_one_call_with_cond_then_uncond(randn, w):
    model = Recorder()
    x, t, y = randn(3, 2, seed=1), torch.tensor([5, 500, 999]), torch.tensor([1, 4, 7])
    out = cfg_prediction(model, x, t, y, w, null_label=10)
    assert len(model.calls) == 1
    xs, ts, ys = model.calls[0]
    assert ys.tolist() == [1, 4, 7, 10, 10, 10]  # conditional half first, then the null label
    torch.testing.assert_close(xs, torch.cat([x, x]))
    assert ts.tolist() == [5, 500, 999] * 2
    cond = Recorder()(x, t, y)
    uncond = Recorder()(x, t, torch.full((3,), 10))
    torch.testing.assert_close(out, uncond + w * (cond - uncond), rtol=1e-12, atol=1e-12)


def test_cfg_scalar_label_and_sampler_integration(abar_cosine):
    model = Recorder()
    ddim_sample(
        model, (4, 2), abar_cosine, 3, torch.Generator().manual_seed(0), labels=torch.tensor(2),
        guidance_scale=2.0,
    )  # fmt: skip
    assert len(model.calls) == 3  # one batched call per step
    assert all(c[0].shape == (8, 2) and c[2].tolist() == [2] * 4 + [10] * 4 for c in model.calls)
    with pytest.raises(ValueError, match="guidance_scale needs labels"):
        ddim_sample(model, (4, 2), abar_cosine, 3, None, guidance_scale=2.0)


def test_classifier_guidance_with_the_exact_classifier_gives_the_class_score(randn):
    # p(x) = mixture of two classes; grad log p(y | x_t) = score_y(x_t) - score(x_t).
    # Classifier guidance at scale 1 must turn the unconditional eps into class y's eps.
    means = torch.tensor([[-2.0, 0.0], [2.0, 1.0]], dtype=torch.float64)
    covs = torch.stack([torch.eye(2, dtype=torch.float64) * 0.3, torch.eye(2, dtype=torch.float64)])
    mix = GaussianMixture(means, covs, torch.tensor([0.7, 0.3], dtype=torch.float64))
    cls1 = GaussianMixture(means[1:], covs[1:], torch.ones(1, dtype=torch.float64))
    abar = torch.linspace(0.99, 0.01, 100, dtype=torch.float64)
    t = torch.tensor([10, 50, 90, 99])
    a = abar[t]
    x = randn(4, 2, seed=2) * 2
    eps = -(1 - a).sqrt()[:, None] * gmm_noised_score(x, a, mix)
    grad = gmm_noised_score(x, a, cls1) - gmm_noised_score(x, a, mix)
    guided = classifier_guidance(eps, x, t, grad, abar, scale=1.0)
    torch.testing.assert_close(guided, -(1 - a).sqrt()[:, None] * gmm_noised_score(x, a, cls1))
    # The callable form and a larger scale move further along the same direction.
    g2 = classifier_guidance(eps, x, t, lambda x_, t_: grad, abar, scale=2.0)
    torch.testing.assert_close(g2 - eps, 2 * (guided - eps))
