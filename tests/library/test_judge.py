"""The digits judge: accuracy on real digits, input handling, the Frechet distance."""

import numpy as np
import pytest
import torch

from diffcourse.data import load_digits
from diffcourse.judge import DigitsJudge, frechet_distance_from_features


@pytest.fixture(scope="module")
def judge():
    return DigitsJudge()


def test_reads_real_test_digits(judge):
    x, y = load_digits("test")
    assert judge.accuracy(x, y) >= 0.98  # measured 0.993
    assert judge.predict(x).dtype == torch.int64
    assert judge.class_counts(x).sum() == 297


def test_uses_the_same_split_as_load_digits(judge):
    """The judge is self-contained (a student support file) but must agree with data.py."""
    from diffcourse import judge as judge_module

    _, _, x_test, y_test = judge_module._digits_split()
    images, labels = load_digits("test")
    np.testing.assert_array_equal(judge._to_pixels(images), x_test)
    np.testing.assert_array_equal(labels.numpy(), y_test)


def test_input_formats_agree_and_values_are_clipped(judge):
    x, _ = load_digits("test")
    x = x[:40]
    base = judge.predict(x)
    assert torch.equal(judge.predict(x[:, 0]), base)
    assert torch.equal(judge.predict(x.reshape(40, 64).numpy()), base)
    assert torch.equal(judge.predict(x.double()), base)
    # a diverged sampler's output is judged after clipping to [-1, 1]
    assert torch.equal(judge.predict(x * 1000), judge.predict((x * 1000).clamp(-1, 1)))
    with pytest.raises(ValueError, match="shape"):
        judge.predict(torch.zeros(3, 1, 7, 7))
    with pytest.raises(ValueError, match="NaN"):
        judge.predict(torch.full((2, 64), float("nan")))
    with pytest.raises(ValueError, match="labels"):
        judge.accuracy(x, torch.zeros(3))


def test_accuracy_counts_mismatches(judge):
    x, y = load_digits("test")
    wrong = (y + 1) % 10
    assert judge.accuracy(x, wrong) < 0.02


def test_frechet_distance_formula_against_scipy():
    from scipy import linalg

    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5))
    b = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)) + 0.5
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s_a @ s_b).real
    expected = np.sum((mu_a - mu_b) ** 2) + np.trace(s_a + s_b - 2 * covmean)
    assert abs(frechet_distance_from_features(a, b) - expected) < 1e-8 * max(1, expected)
    # 1D closed form: (m1 - m2)^2 + (s1 - s2)^2
    x = np.array([[0.0], [2.0]])  # mean 1, var 2
    y = np.array([[3.0], [5.0], [7.0]])  # mean 5, var 4
    assert abs(frechet_distance_from_features(x, y) - (16 + (np.sqrt(2) - 2) ** 2)) < 1e-12
    with pytest.raises(ValueError, match="features"):
        frechet_distance_from_features(a, b[:, :3])


def test_frechet_distance_ranks_real_above_degenerate_sets(judge):
    train_x, train_y = load_digits("train")
    test_x, _ = load_digits("test")
    real = judge.frechet_distance(train_x[:300])
    only_threes = judge.frechet_distance(train_x[train_y == 3])
    noise = judge.frechet_distance(
        torch.rand(300, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    )
    assert judge.frechet_distance(test_x) < 1e-8
    assert judge.reference_frechet_distance() < real < 1.0
    assert only_threes > 10 * real and noise > 10 * real
    assert judge.features(test_x[:5]).shape == (5, 45)
