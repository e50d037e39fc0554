"""The denoising networks: call convention, conditioning, per-sample independence, errors."""

import math

import pytest
import torch

from diffcourse.models import (
    MODEL_CLASSES,
    DigitsUNet,
    ImageMLP,
    TimeMLP,
    build_model,
    count_parameters,
    timestep_embedding,
)

T_MIXED = torch.tensor([999, 500, 37, 1, 0])


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def randomized(model, seed=0, std=0.2):
    """Every parameter drawn at random, so no zero-initialised layer hides a dependence."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return model


def make(kind, num_classes=None, **kw):
    if kind == "time_mlp":
        return randomized(
            TimeMLP(data_dim=5, width=16, num_blocks=2, emb_dim=8, num_classes=num_classes)
        )
    if kind == "image_mlp":
        return randomized(
            ImageMLP((1, 8, 8), width=32, num_blocks=2, emb_dim=16, num_classes=num_classes)
        )
    return randomized(DigitsUNet(1, channels=(8, 16), emb_dim=16, num_classes=num_classes))


def inputs(kind, batch=5, dtype=torch.float32, seed=1):
    shape = (batch, 5) if kind == "time_mlp" else (batch, 1, 8, 8)
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


KINDS = ["time_mlp", "image_mlp", "unet"]


@pytest.mark.parametrize("kind", KINDS)
def test_output_shape_and_dtype_follow_input(kind):
    model = make(kind)
    x = inputs(kind)
    out = model(x, T_MIXED)
    assert out.shape == x.shape and out.dtype == torch.float32
    model64 = make(kind).double()
    out64 = model64(x.double(), T_MIXED)
    assert out64.dtype == torch.float64
    # float64 and float32 computations of the same network agree to float32 accuracy
    assert torch.allclose(out64.float(), out, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_each_sample_uses_its_own_timestep_and_label(kind):
    """Row i of a batch equals the model applied to row i alone (no t[0] for all, no mixing)."""
    model = make(kind, num_classes=3).double()
    x = inputs(kind, dtype=torch.float64)
    labels = torch.tensor([0, 1, 2, 3, 1])  # 3 = null
    out = model(x, T_MIXED, labels)
    for i in range(len(x)):
        alone = model(x[i : i + 1], T_MIXED[i : i + 1], labels[i : i + 1])
        assert torch.allclose(out[i : i + 1], alone, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_output_depends_on_t_and_label(kind):
    model = make(kind, num_classes=4)
    x = inputs(kind, batch=2)
    t = torch.tensor([10, 10])
    base = model(x, t, torch.tensor([0, 0]))
    assert not torch.allclose(base, model(x, torch.tensor([600, 600]), torch.tensor([0, 0])))
    assert not torch.allclose(base, model(x, t, torch.tensor([1, 1])))


@pytest.mark.parametrize("kind", KINDS)
def test_labels_none_means_null_label(kind):
    model = make(kind, num_classes=4)
    x = inputs(kind)
    assert torch.equal(model(x, T_MIXED), model(x, T_MIXED, torch.full((5,), 4)))
    assert model.null_label == 4


@pytest.mark.parametrize("kind", KINDS)
def test_scalar_timestep_is_broadcast(kind):
    model = make(kind)
    x = inputs(kind)
    assert torch.equal(model(x, 7), model(x, torch.full((5,), 7)))


@pytest.mark.parametrize("kind", KINDS)
def test_every_parameter_gets_a_gradient(kind):
    model = make(kind, num_classes=3)
    x = inputs(kind)
    model(x, T_MIXED, torch.tensor([0, 1, 2, 3, 0])).pow(2).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("kind", KINDS)
def test_bad_inputs_raise_clear_errors(kind):
    model = make(kind, num_classes=3)
    x = inputs(kind)
    with pytest.raises(ValueError, match="t must"):
        model(x, torch.rand(5))
    with pytest.raises(ValueError, match="t must"):
        model(x, torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="labels must"):
        model(x, T_MIXED, torch.tensor([0, 1, 2, 4, 0]))
    with pytest.raises(ValueError, match="labels must"):
        model(x, T_MIXED, torch.tensor([0, -1, 2, 3, 0]))
    with pytest.raises(ValueError, match="x must"):
        model(x[0], T_MIXED)
    unconditional = make(kind)
    with pytest.raises(ValueError, match="unconditional"):
        unconditional(x, T_MIXED, torch.zeros(5, dtype=torch.long))


def test_unet_checks_image_size_and_handles_other_shapes():
    unet = randomized(DigitsUNet(3, channels=(8, 16, 16), emb_dim=16))
    assert unet.downsample_factor == 4
    x = torch.randn(2, 3, 12, 16)
    assert unet(x, torch.tensor([5, 900])).shape == x.shape
    with pytest.raises(ValueError, match="multiples of 4"):
        unet(torch.randn(2, 3, 10, 16), torch.tensor([5, 900]))
    with pytest.raises(ValueError, match="channels"):
        unet(torch.randn(2, 1, 12, 16), torch.tensor([5, 900]))


def test_image_mlp_matches_the_documented_size():
    """4 blocks of width 256 with FiLM: the 860,608-parameter model of the digits note."""
    assert count_parameters(ImageMLP((1, 8, 8), width=256, num_blocks=4, num_classes=10)) == 860_608


def test_fresh_models_start_near_identity_residuals():
    """Zero-initialised residual branches: a fresh ImageMLP ignores t (a standard, stable start)."""
    model = ImageMLP((1, 8, 8), width=32, num_blocks=2, emb_dim=16)
    x = torch.randn(3, 1, 8, 8)
    assert torch.equal(model(x, torch.tensor([0, 0, 0])), model(x, torch.tensor([999, 5, 1])))


@pytest.mark.parametrize("name", sorted(MODEL_CLASSES))
def test_build_model_rebuilds_from_config(name):
    cls = MODEL_CLASSES[name]
    model = cls(num_classes=10)
    clone = build_model(name, dict(model.config))
    clone.load_state_dict(model.state_dict())
    assert type(clone) is cls and clone.config == model.config
    with pytest.raises(ValueError, match="unknown model class"):
        build_model("ResNet", {})


def test_timestep_embedding():
    t = torch.arange(1000)
    emb = timestep_embedding(t, 64)
    assert emb.shape == (1000, 64) and emb.dtype == torch.float32
    # cos^2 + sin^2 = 1 per frequency
    assert torch.allclose(emb[:, :32] ** 2 + emb[:, 32:] ** 2, torch.ones(1000, 32), atol=1e-5)
    # the first frequency is 1 rad per step; the last is 1/max_period^(31/32)
    assert torch.allclose(emb[:, 32], torch.sin(t.float()), atol=1e-4)
    assert math.isclose(emb[1, 63].item(), math.sin(10000 ** (-31 / 32)), rel_tol=1e-4)
    # all 1000 timesteps get distinct codes
    assert torch.cdist(emb, emb).add(torch.eye(1000) * 10).min() > 1e-3
    with pytest.raises(ValueError, match="even"):
        timestep_embedding(t, 7)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="width"):
        TimeMLP(width=0)
    with pytest.raises(ValueError, match="num_classes"):
        TimeMLP(num_classes=0)
    with pytest.raises(ValueError, match="image_shape"):
        ImageMLP((8, 8))
    with pytest.raises(ValueError, match="channels"):
        DigitsUNet(channels=())
