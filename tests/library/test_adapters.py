"""LoRA: starts as the pretrained model, trains only the low-rank factors, merges exactly."""

import pytest
import torch
from torch import nn

from diffcourse.adapters import LoRALinear, add_lora, merge_lora
from diffcourse.models import TimeMLP

pytestmark = pytest.mark.usefixtures("one_thread")


def _model():
    torch.manual_seed(0)
    return TimeMLP(data_dim=2, width=32, num_blocks=2, emb_dim=16).double()


def test_the_adapted_model_starts_equal_and_trains_only_the_factors(randn):
    model = _model()
    x, t = randn(5, 2, seed=1), torch.tensor([0, 10, 100, 500, 999])
    before = model(x, t)
    names = add_lora(model, rank=2)
    assert names and all(isinstance(model.get_submodule(n), LoRALinear) for n in names)
    assert torch.equal(model(x, t), before)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.endswith((".A", ".B")) for n in trainable)
    layers = [model.get_submodule(n) for n in names]
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert count == sum(2 * (m.base.in_features + m.base.out_features) for m in layers)
    model(x, t).sum().backward()
    assert all(p.grad is None for n, p in model.named_parameters() if n not in trainable)


def test_merging_gives_a_plain_model_with_the_same_output(randn):
    model = _model()
    add_lora(model, rank=3, alpha=6.0, names=["inp", "out"])
    for m in model.modules():
        if isinstance(m, LoRALinear):
            with torch.no_grad():
                m.B.copy_(randn(*m.B.shape, seed=2))  # a trained-looking update
    x, t = randn(4, 2, seed=3), torch.tensor([1, 2, 3, 4])
    adapted = model(x, t)
    layer = next(m for m in model.modules() if isinstance(m, LoRALinear))
    manual = x @ layer.merged_weight().T + layer.base.bias  # the first layer is "inp"
    assert torch.allclose(layer(x), manual)
    assert not torch.allclose(adapted, _model()(x, t))
    assert merge_lora(model) == 2
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    assert torch.allclose(model(x, t), adapted, atol=1e-12)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="rank"):
        LoRALinear(nn.Linear(3, 3), rank=0)
    with pytest.raises(ValueError, match="no nn.Linear"):
        add_lora(_model(), names=["nothing-called-this"])
