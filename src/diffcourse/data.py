"""Data sets for the course: 2D toys, scikit-learn's 8x8 digits, a folder of images.

Conventions: samplers of toy data take a ``torch.Generator`` (reproducible,
independent of the global RNG) and return float32 tensors (N, 2). Images are
float32 tensors (N, C, H, W) scaled to [-1, 1], the range the diffusion models
are trained on.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
DIGITS_TEST_SIZE = 297  # 1797 digits = 1500 train + 297 test (stratified, seed 0)


def _check_n(n) -> int:
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return int(n)


def two_moons(
    n: int, generator: torch.Generator | None = None, noise: float = 0.05, normalize: bool = True
) -> torch.Tensor:
    """Two interleaving half circles (as sklearn.datasets.make_moons), (n, 2) float32.

    Points are split as evenly as possible between the moons (the inner moon
    gets the extra point, as in sklearn), then Gaussian noise of std ``noise`` is added. With
    ``normalize`` the result is mapped by the fixed affine map
    (x - (0.5, 0.25)) * 2 to roughly zero mean and unit scale, the range where a
    diffusion model with unit-variance noise works well.
    """
    n = _check_n(n)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    n_outer = n // 2
    n_inner = n - n_outer
    theta_outer = torch.linspace(0, math.pi, n_outer, dtype=torch.float64)
    theta_inner = torch.linspace(0, math.pi, n_inner, dtype=torch.float64)
    outer = torch.stack([torch.cos(theta_outer), torch.sin(theta_outer)], dim=1)  # (n_outer, 2)
    inner = torch.stack([1 - torch.cos(theta_inner), 0.5 - torch.sin(theta_inner)], dim=1)
    x = torch.cat([outer, inner])  # (n, 2)
    x = x + noise * torch.randn(x.shape, generator=generator, dtype=torch.float64)
    x = x[torch.randperm(n, generator=generator)]
    if normalize:
        x = (x - torch.tensor([0.5, 0.25], dtype=torch.float64)) * 2
    return x.float()


def swiss_roll(
    n: int, generator: torch.Generator | None = None, noise: float = 0.1
) -> torch.Tensor:
    """A 2D Swiss roll (the (x, z) plane of sklearn's make_swiss_roll), scaled by 1/5, (n, 2).

    The angle t is uniform in [1.5 pi, 4.5 pi]; the point is t (cos t, sin t) / 5
    plus Gaussian noise of std ``noise`` (in the scaled units), so the roll
    spans about [-2.8, 2.8].
    """
    n = _check_n(n)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator, dtype=torch.float64))  # (n,)
    x = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / 5  # (n, 2)
    x = x + noise * torch.randn(x.shape, generator=generator, dtype=torch.float64)
    return x.float()


def gaussian_mixture_2d(means, stds, weights=None):
    """A 2D mixture of isotropic Gaussians as a ``diffcourse.scores.GaussianMixture``.

    means: (K, 2); stds: a scalar or (K,) standard deviations; weights: (K,)
    (normalised here; uniform when None). Everything is float64, so the exact
    noised score of the mixture (diffcourse.scores) is float64-accurate; draw
    samples with the mixture's own ``sample`` method.
    """
    from diffcourse.scores import GaussianMixture  # the library's single mixture type

    means = torch.as_tensor(means, dtype=torch.float64)
    if means.dim() != 2 or means.shape[1] != 2:
        raise ValueError(f"means must have shape (K, 2), got {tuple(means.shape)}")
    k = means.shape[0]
    stds = torch.as_tensor(stds, dtype=torch.float64).expand(k).clone()
    if (stds <= 0).any():
        raise ValueError("stds must be positive")
    if weights is None:
        weights = torch.full((k,), 1.0 / k, dtype=torch.float64)
    weights = torch.as_tensor(weights, dtype=torch.float64)
    if weights.shape != (k,) or (weights <= 0).any():
        raise ValueError(f"weights must be K = {k} positive numbers, got {weights.tolist()}")
    covs = stds[:, None, None] ** 2 * torch.eye(2, dtype=torch.float64)  # (K, 2, 2)
    return GaussianMixture(means=means, covs=covs, weights=weights / weights.sum())


def eight_gaussians(radius: float = 2.0, std: float = 0.1):
    """The classic eight Gaussians evenly spaced on a circle, equal weights (a GaussianMixture)."""
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    means = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (8, 2)
    return gaussian_mixture_2d(means, std)


@lru_cache(maxsize=1)
def _digits_split() -> tuple:
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    x = bunch.images.astype(np.float32) / 8.0 - 1.0  # 0..16 -> [-1, 1], (1797, 8, 8)
    y = bunch.target.astype(np.int64)
    index = np.arange(len(y))
    train_idx, test_idx = train_test_split(
        index, test_size=DIGITS_TEST_SIZE, stratify=y, random_state=0
    )
    return x, y, np.sort(train_idx), np.sort(test_idx)


def load_digits(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 8x8 digits as (images (N, 1, 8, 8) float32 in [-1, 1], labels (N,) long).

    split: "train" (1500), "test" (297) or "all" (1797). The split is fixed:
    stratified by class with seed 0, so every module (judge, trainer, problem
    sets) sees the same held-out digits. Returns fresh tensors on every call.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    x, y, train_idx, test_idx = _digits_split()
    index = {"train": train_idx, "test": test_idx, "all": np.arange(len(y))}[split]
    images = torch.from_numpy(x[index].copy())[:, None]  # (N, 1, 8, 8)
    labels = torch.from_numpy(y[index].copy())  # (N,)
    return images, labels


class ImageFolder(torch.utils.data.Dataset):
    """All images under a folder, loaded at once, as float32 (C, size, size) in [-1, 1].

    Files are read with Pillow (png, jpg, jpeg, bmp, gif; first frame of an
    animation) in sorted path order, converted to ``channels`` (1: grayscale,
    3: RGB; transparency is composited on white), resized so the shorter side
    is ``size`` and centre-cropped to a square. Subfolders are searched too;
    hidden files (names starting with '.') are skipped. Problems raise at
    construction, naming the path: a missing folder (FileNotFoundError), a
    folder with no images, a file that is not an image, or an image that
    cannot be decoded (ValueError).

    ``images`` is the (N, C, size, size) tensor; indexing gives one image.
    """

    def __init__(self, path, size: int = 32, channels: int = 3):
        path = Path(path)
        if isinstance(size, bool) or int(size) != size or size < 1:
            raise ValueError(f"size must be a positive integer, got {size!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels!r}")
        if not path.exists():
            raise FileNotFoundError(f"image folder {path} does not exist")
        if not path.is_dir():
            raise ValueError(f"{path} is not a folder")
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not files:
            raise ValueError(f"image folder {path} contains no files")
        for f in files:
            if f.suffix.lower() not in IMAGE_EXTENSIONS:
                raise ValueError(
                    f"{f} is not an image file (expected one of {', '.join(IMAGE_EXTENSIONS)})"
                )
        self.path = path
        self.size = int(size)
        self.channels = channels
        self.files = files
        self.images = torch.stack([self._load(f) for f in files])  # (N, C, size, size)

    def _load(self, file: Path) -> torch.Tensor:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(file) as im:
                im.seek(0)
                im.load()
                img = im.convert("RGBA")
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
            raise ValueError(f"cannot read image {file}: {err}") from err
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img).convert("L" if self.channels == 1 else "RGB")
        w, h = img.size
        scale = self.size / min(w, h)
        new_w, new_h = max(self.size, round(w * scale)), max(self.size, round(h * scale))
        img = img.resize((new_w, new_h), Image.Resampling.BICUBIC)
        left, top = (new_w - self.size) // 2, (new_h - self.size) // 2
        img = img.crop((left, top, left + self.size, top + self.size))
        arr = np.asarray(img, dtype=np.float32) / 127.5 - 1.0  # (H, W) or (H, W, 3)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        return torch.from_numpy(arr.copy()).permute(2, 0, 1)  # (C, H, W)

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.images[index]
