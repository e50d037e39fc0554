"""Data sets: toy samplers against closed forms and sklearn, the digits split, ImageFolder."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from diffcourse.data import (
    ImageFolder,
    eight_gaussians,
    gaussian_mixture_2d,
    load_digits,
    swiss_roll,
    two_moons,
)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def sorted_rows(a):
    a = np.asarray(a, dtype=np.float64)
    return a[np.lexsort(a.T[::-1])]


def test_two_moons_without_noise_equals_sklearn():
    from sklearn.datasets import make_moons

    for n in (100, 101):
        ours = two_moons(n, gen(), noise=0.0, normalize=False)
        ref, _ = make_moons(n, noise=0.0, shuffle=False)
        assert ours.shape == (n, 2) and ours.dtype == torch.float32
        d = torch.cdist(ours.double(), torch.from_numpy(ref))  # (n, n)
        # the same point sets: every point has an exact partner both ways, and counts match
        assert d.min(1).values.max() < 1e-6 and d.min(0).values.max() < 1e-6
        assert (d < 1e-6).sum() == n


def test_two_moons_normalisation_noise_and_seeding():
    raw = two_moons(2000, gen(3), noise=0.0, normalize=False)
    norm = two_moons(2000, gen(3), noise=0.0)
    assert torch.allclose(norm, (raw - torch.tensor([0.5, 0.25])) * 2, atol=1e-6)
    a, b = two_moons(500, gen(1)), two_moons(500, gen(1))
    assert torch.equal(a, b)
    assert not torch.equal(a, two_moons(500, gen(2)))
    # noise std: distance of noisy points to the noiseless curve is about noise * sqrt(2)
    noisy = two_moons(4000, gen(0), noise=0.1, normalize=False)
    clean = two_moons(4000, gen(0), noise=0.0, normalize=False)
    d = torch.cdist(noisy.double(), clean.double()).min(1).values
    assert 0.05 < d.mean().item() < 0.15
    with pytest.raises(ValueError, match="n must"):
        two_moons(0)
    with pytest.raises(ValueError, match="noise"):
        two_moons(10, noise=-1)


def test_swiss_roll_lies_on_the_spiral():
    x = swiss_roll(3000, gen(), noise=0.0).double() * 5  # back to sklearn's units
    r = x.norm(dim=1)
    assert r.min() >= 1.5 * math.pi - 1e-4 and r.max() <= 4.5 * math.pi + 1e-4
    # the point at angle t is t (cos t, sin t): its polar angle is t mod 2 pi
    assert torch.allclose(torch.cos(r), x[:, 0] / r, atol=1e-5)
    assert torch.allclose(torch.sin(r), x[:, 1] / r, atol=1e-5)
    assert torch.equal(swiss_roll(10, gen(5)), swiss_roll(10, gen(5)))


def test_gaussian_mixtures():
    pytest.importorskip("diffcourse.scores")
    mix = eight_gaussians(radius=2.0, std=0.1)
    assert mix.means.shape == (8, 2) and mix.means.dtype == torch.float64
    assert torch.allclose(mix.means.norm(dim=1), torch.full((8,), 2.0, dtype=torch.float64))
    assert torch.allclose(mix.weights, torch.full((8,), 1 / 8, dtype=torch.float64))
    assert torch.allclose(mix.covs, 0.01 * torch.eye(2, dtype=torch.float64).expand(8, 2, 2))
    mix = gaussian_mixture_2d([[0, 0], [3, 0]], [1.0, 0.5], weights=[3, 1])
    assert torch.allclose(mix.weights, torch.tensor([0.75, 0.25], dtype=torch.float64))
    assert torch.allclose(mix.covs[1], 0.25 * torch.eye(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="means"):
        gaussian_mixture_2d([0, 0], 1.0)
    with pytest.raises(ValueError, match="stds"):
        gaussian_mixture_2d([[0, 0]], -1.0)


def test_digits_split_is_fixed_stratified_and_complete():
    from sklearn.datasets import load_digits as sk_load

    bunch = sk_load()
    train_x, train_y = load_digits("train")
    test_x, test_y = load_digits("test")
    all_x, all_y = load_digits("all")
    assert train_x.shape == (1500, 1, 8, 8) and test_x.shape == (297, 1, 8, 8)
    assert train_x.dtype == torch.float32 and train_y.dtype == torch.int64
    assert train_x.min() == -1.0 and train_x.max() == 1.0
    # "all" is sklearn's data in order, scaled 0..16 -> [-1, 1]
    np.testing.assert_array_equal(all_x[:, 0].numpy(), bunch.images / 8.0 - 1.0)
    np.testing.assert_array_equal(all_y.numpy(), bunch.target)
    # train + test is a partition of all (as multisets of (image, label) rows)
    rows = lambda x, y: sorted_rows(np.concatenate([x.reshape(len(x), -1), y[:, None]], 1))
    both = rows(torch.cat([train_x, test_x]).numpy(), torch.cat([train_y, test_y]).numpy())
    np.testing.assert_array_equal(both, rows(all_x.numpy(), all_y.numpy()))
    # stratified: every class has its share of the 297 test digits, to within one
    share = np.bincount(bunch.target) * 297 / 1797
    assert np.all(np.abs(np.bincount(test_y.numpy(), minlength=10) - share) <= 1)
    # fixed: the same split on every call, and fresh tensors (mutating one does not leak)
    again_x, _ = load_digits("test")
    assert torch.equal(again_x, test_x)
    again_x.zero_()
    assert torch.equal(load_digits("test")[0], test_x)
    with pytest.raises(ValueError, match="split"):
        load_digits("validation")


def write_images(folder):
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 16), (255, 255, 255)).save(folder / "a_white.png")
    Image.new("L", (10, 20), 0).save(folder / "b_black.jpg", quality=100)
    Image.new("RGB", (8, 8), (255, 0, 0)).save(folder / "c_red.bmp")
    Image.new("P", (12, 12), 0).save(folder / "d_palette.gif")
    rgba = Image.new("RGBA", (8, 8), (0, 0, 0, 0))  # fully transparent: composited on white
    rgba.save(folder / "e_transparent.png")
    (folder / ".DS_Store").write_bytes(b"junk")
    return folder


def test_image_folder_loads_resizes_and_scales(tmp_path):
    folder = write_images(tmp_path / "imgs")
    ds = ImageFolder(folder, size=8, channels=3)
    assert len(ds) == 5 and ds.images.shape == (5, 3, 8, 8) and ds.images.dtype == torch.float32
    assert [f.name for f in ds.files][0] == "a_white.png"
    assert torch.allclose(ds[0], torch.ones(3, 8, 8))  # white -> +1
    assert torch.allclose(ds[1], -torch.ones(3, 8, 8), atol=0.02)  # black -> -1 (jpeg)
    assert torch.allclose(ds[2][0], torch.ones(8, 8)) and torch.allclose(
        ds[2][1], -torch.ones(8, 8)
    )
    assert torch.allclose(ds[4], torch.ones(3, 8, 8))  # transparent -> white
    gray = ImageFolder(folder, size=4, channels=1)
    assert gray.images.shape == (5, 1, 4, 4)
    assert gray.images.min() >= -1 and gray.images.max() <= 1


def test_image_folder_errors_name_the_path(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match="nope"):
        ImageFolder(missing, size=8)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="empty.*no files"):
        ImageFolder(empty, size=8)
    folder = write_images(tmp_path / "with_text")
    (folder / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match=r"notes\.txt is not an image file"):
        ImageFolder(folder, size=8)
    broken = write_images(tmp_path / "broken")
    (broken / "z_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(ValueError, match=r"cannot read image .*z_broken\.png"):
        ImageFolder(broken, size=8)
    with pytest.raises(ValueError, match="channels"):
        ImageFolder(folder, size=8, channels=2)
    with pytest.raises(ValueError, match="size"):
        ImageFolder(folder, size=0)
