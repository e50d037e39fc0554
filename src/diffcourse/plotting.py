"""Figures for notebooks and the site: image grids and 2D scatter plots.

No sampling code lives here. Functions take tensors or numpy arrays, return a
matplotlib Figure (created through pyplot, so a notebook shows it; end the
line with ``;`` to avoid showing it twice when it is the cell's last value),
and never change global matplotlib state.

This module is handed to students as a support file: it imports only numpy,
torch and matplotlib.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float32).numpy()
    return np.asarray(x, dtype=np.float32)


def make_grid(
    images, nrow: int | None = None, padding: int = 1, pad_value: float = 1.0
) -> np.ndarray:
    """Tile images (N, C, H, W) in [-1, 1] into one array in [0, 1].

    Returns (rows*(H+p)+p, nrow*(W+p)+p) for C = 1, or (..., ..., 3) for C = 3.
    nrow is the number of images per row (default: about sqrt(N)). Values
    outside [-1, 1] are clipped.
    """
    x = _to_numpy(images)
    if x.ndim == 3:  # (N, H, W) -> (N, 1, H, W)
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape (N, C, H, W) with C in (1, 3), got {x.shape}")
    n, c, h, w = x.shape
    if n == 0:
        raise ValueError("images is empty")
    if nrow is None:
        nrow = math.ceil(math.sqrt(n))
    if nrow < 1:
        raise ValueError(f"nrow must be positive, got {nrow}")
    nrow = min(nrow, n)
    rows = math.ceil(n / nrow)
    x = (np.clip(x, -1, 1) + 1) / 2  # [0, 1]
    grid = np.full((c, rows * (h + padding) + padding, nrow * (w + padding) + padding), pad_value)
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top : top + h, left : left + w] = x[i]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def show_images(
    images, nrow: int | None = None, title: str | None = None, labels=None, scale: float = 0.6
):
    """Show images (N, C, H, W) in [-1, 1] as a grid; labels (N,) are written under each image."""
    import matplotlib.pyplot as plt

    x = _to_numpy(images)
    if x.ndim == 3:
        x = x[:, None]
    n = x.shape[0] if x.ndim == 4 else 0
    if labels is None:
        grid = make_grid(x, nrow)
        cols = min(nrow or math.ceil(math.sqrt(max(n, 1))), max(n, 1))
        rows = math.ceil(n / cols)
        fig, ax = plt.subplots(figsize=(max(2.0, scale * cols + 0.4), max(2.0, scale * rows + 0.6)))
        ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.axis("off")
    else:
        labels = list(_to_numpy(labels).astype(int)) if not isinstance(labels, list) else labels
        if len(labels) != n:
            raise ValueError(f"labels must have one entry per image ({n}), got {len(labels)}")
        cols = min(nrow or math.ceil(math.sqrt(n)), n)
        rows = math.ceil(n / cols)
        fig, axes = plt.subplots(
            rows, cols, figsize=(scale * 1.5 * cols, scale * 1.8 * rows), squeeze=False
        )
        for i, ax in enumerate(axes.flat):
            ax.axis("off")
            if i < n:
                img = (np.clip(x[i], -1, 1) + 1) / 2
                ax.imshow(
                    img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0),
                    cmap="gray",
                    vmin=0,
                    vmax=1,
                )
                ax.set_title(str(labels[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_2d(
    samples,
    reference=None,
    title: str | None = None,
    ax=None,
    s: float = 3.0,
    lim: float | None = None,
):
    """Scatter plot of 2D samples (N, 2), over an optional reference set (M, 2) in grey."""
    import matplotlib.pyplot as plt

    x = _to_numpy(samples)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"samples must have shape (N, 2), got {x.shape}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 4))
    else:
        fig = ax.figure
    if reference is not None:
        ref = _to_numpy(reference)
        if ref.ndim != 2 or ref.shape[1] != 2:
            raise ValueError(f"reference must have shape (M, 2), got {ref.shape}")
        ax.scatter(ref[:, 0], ref[:, 1], s=s, c="0.75", label="data", linewidths=0)
    ax.scatter(x[:, 0], x[:, 1], s=s, c="C0", label="samples", linewidths=0)
    if lim is not None:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    if reference is not None:
        ax.legend(loc="upper right", fontsize=8, markerscale=3)
    if title:
        ax.set_title(title)
    return fig


def save_image_grid(images, path, nrow: int | None = None, upscale: int = 4) -> None:
    """Write a grid of images (N, C, H, W) in [-1, 1] to a PNG, each pixel upscale x upscale."""
    from PIL import Image

    grid = make_grid(images, nrow)
    arr = np.round(grid * 255).astype(np.uint8)
    img = Image.fromarray(arr)
    if upscale > 1:
        img = img.resize((img.width * upscale, img.height * upscale), Image.Resampling.NEAREST)
    img.save(path)
