"""The PCA autoencoder against an independent eigendecomposition and Eckart-Young."""

import pytest
import torch

from diffcourse.latent import PCAAutoencoder

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def data(randn):
    """Correlated data (200, 2, 3): six coordinates with very unequal variances."""
    mix = randn(6, 6, seed=1) * torch.tensor([3.0, 2.0, 1.0, 0.5, 0.2, 0.1], dtype=torch.float64)
    return (randn(200, 6, seed=2) @ mix.T + 1.5).reshape(200, 2, 3)


def test_components_span_the_top_eigenvectors_of_the_covariance(data):
    ae = PCAAutoencoder(data, 3)
    vals, vecs = torch.linalg.eigh(torch.cov(data.reshape(200, 6).T))
    top = vecs[:, vals.argsort(descending=True)[:3]]  # (6, 3)
    assert torch.allclose(ae.components.T @ ae.components, top @ top.T, atol=1e-10)
    assert torch.allclose(ae.variances, vals.sort(descending=True).values, atol=1e-10)


def test_reconstruction_error_is_the_discarded_variance(data):
    for k in (1, 3, 5):
        ae = PCAAutoencoder(data, k)
        err = (ae.decode(ae.encode(data)) - data).pow(2).mean().item()
        assert err * 200 / 199 == pytest.approx(ae.expected_error(), rel=1e-10)
    full = PCAAutoencoder(data, 6)
    assert torch.allclose(full.decode(full.encode(data)), data, atol=1e-10)
    assert full.expected_error() == pytest.approx(0.0, abs=1e-20)


def test_pca_beats_another_linear_code_of_the_same_size(data, randn):
    ae = PCAAutoencoder(data, 2)
    flat = data.reshape(200, 6) - ae.mean
    q, _ = torch.linalg.qr(randn(6, 2, seed=3))
    other = (flat @ q @ q.T - flat).pow(2).mean()
    assert (ae.decode(ae.encode(data)) - data).pow(2).mean() < other


def test_latents_are_centred_with_unit_mean_square(data):
    z = PCAAutoencoder(data, 4).encode(data)
    assert z.shape == (200, 4)
    assert torch.allclose(z.mean(0), torch.zeros(4, dtype=z.dtype), atol=1e-10)
    assert z.pow(2).mean().item() == pytest.approx(1.0, rel=1e-10)


def test_bad_k_is_named(data):
    with pytest.raises(ValueError, match="k must be"):
        PCAAutoencoder(data, 7)
