"""The DSM loss: right input x_t, right target per prediction type, labels passed through."""

import pytest
import torch
from diffusers import DDPMScheduler

from diffcourse.losses import dsm_loss

pytestmark = pytest.mark.usefixtures("one_thread")


class Recorder(torch.nn.Module):
    """A linear 'model' that remembers what it was called with."""

    def __init__(self, dim):
        super().__init__()
        self.lin = torch.nn.Linear(dim, dim, dtype=torch.float64)
        self.calls = []

    def forward(self, x, t, labels=None):
        self.calls.append((x.detach().clone(), t.clone(), labels))
        return self.lin(x)


@pytest.mark.parametrize("kind", ["epsilon", "x0", "v"])
def test_loss_matches_an_independent_computation(abar, mixed_t, randn, kind):
    torch.manual_seed(0)
    model = Recorder(6)
    x0, noise = randn(5, 6, seed=1), randn(5, 6, seed=2)
    labels = torch.tensor([0, 1, 2, 3, 4])
    loss = dsm_loss(model, x0, mixed_t, noise, abar, prediction_type=kind, labels=labels)
    sched = DDPMScheduler(num_train_timesteps=1000)
    sched.alphas_cumprod = abar.clone()
    x_t = sched.add_noise(x0, noise, mixed_t)
    target = {"epsilon": noise, "x0": x0, "v": sched.get_velocity(x0, noise, mixed_t)}[kind]
    expected = ((model.lin(x_t) - target) ** 2).mean()
    assert loss.ndim == 0
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=0)
    x_seen, t_seen, labels_seen = model.calls[0]
    torch.testing.assert_close(x_seen, x_t, rtol=0, atol=1e-12)
    assert torch.equal(t_seen, mixed_t) and labels_seen is labels
    loss.backward()  # differentiable w.r.t. the model
    assert model.lin.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("kind", ["epsilon", "x0", "v"])
def test_a_perfect_predictor_has_zero_loss_and_others_do_not(abar_cosine, mixed_t, randn, kind):
    x0, noise = randn(5, 2, 3, seed=3), randn(5, 2, 3, seed=4)
    a = abar_cosine[mixed_t].view(-1, 1, 1)
    v = a.sqrt() * noise - (1 - a).sqrt() * x0
    truths = {"epsilon": noise, "x0": x0, "v": v}
    for name, value in truths.items():
        loss = dsm_loss(lambda x, t, value=value: value, x0, mixed_t, noise, abar_cosine, kind)
        if name == kind:
            assert loss.item() < 1e-24
        else:
            assert loss.item() > 1e-3


def test_loss_without_labels_calls_model_with_two_arguments(abar, randn):
    x0, noise = randn(3, 2, seed=5), randn(3, 2, seed=6)
    loss = dsm_loss(lambda x, t: torch.zeros_like(x), x0, torch.tensor([1, 2, 3]), noise, abar)
    torch.testing.assert_close(loss, (noise**2).mean())
    with pytest.raises(ValueError, match="prediction_type"):
        dsm_loss(lambda x, t: x, x0, torch.tensor([1, 2, 3]), noise, abar, prediction_type="eps")
    with pytest.raises(ValueError, match="model returned"):
        dsm_loss(lambda x, t: x[:, :1], x0, torch.tensor([1, 2, 3]), noise, abar)
