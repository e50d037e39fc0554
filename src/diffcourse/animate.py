"""Animated GIFs of sampling trajectories, written with Pillow (no ffmpeg, no matplotlib).

Two kinds of trajectory:

- "particles": frames of 2D points, a tensor (F, N, 2) or a list of (N, 2);
  drawn as small dots in fixed axes, over an optional grey reference set.
- "images": frames of image batches, a tensor (F, B, C, H, W) or a list of
  (B, C, H, W) in [-1, 1]; each frame is a grid, upscaled with nearest
  neighbours so pixels stay crisp.

Output is deterministic (same input, same bytes) and small: a fixed palette,
no dithering, and frames subsampled to at most ``max_frames``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from diffcourse.plotting import make_grid

# Palette indices for particle frames: background, reference points, samples, axes.
_PALETTE = [255, 255, 255, 200, 200, 200, 31, 119, 180, 120, 120, 120]


def _frames_array(trajectory) -> list[np.ndarray]:
    if isinstance(trajectory, torch.Tensor):
        trajectory = list(trajectory.detach().to("cpu", torch.float32))
    frames = [
        np.asarray(f.detach().cpu().float() if isinstance(f, torch.Tensor) else f, np.float32)
        for f in trajectory
    ]
    if not frames:
        raise ValueError("trajectory has no frames")
    return frames


def _pick(frames: list, max_frames: int) -> list:
    """At most max_frames frames, evenly spaced, always keeping the first and the last."""
    if max_frames < 2:
        raise ValueError(f"max_frames must be >= 2, got {max_frames}")
    if len(frames) <= max_frames:
        return frames
    index = np.unique(np.round(np.linspace(0, len(frames) - 1, max_frames)).astype(int))
    return [frames[i] for i in index]


def _particle_frame(
    points: np.ndarray, reference, lim: float, size: int, radius: int
) -> Image.Image:
    img = Image.new("P", (size, size), 0)
    img.putpalette(_PALETTE + [0] * (768 - len(_PALETTE)))
    draw = ImageDraw.Draw(img)
    mid = size // 2
    draw.line([(0, mid), (size - 1, mid)], fill=3)  # axes through the origin
    draw.line([(mid, 0), (mid, size - 1)], fill=3)

    def dots(p: np.ndarray, colour: int) -> None:
        px = np.round((p[:, 0] + lim) / (2 * lim) * (size - 1)).astype(int)
        py = np.round((lim - p[:, 1]) / (2 * lim) * (size - 1)).astype(int)
        keep = np.isfinite(p).all(1) & (px >= 0) & (px < size) & (py >= 0) & (py < size)
        for x, y in zip(px[keep], py[keep], strict=True):
            draw.rectangle([x - radius, y - radius, x + radius, y + radius], fill=colour)

    if reference is not None:
        dots(reference, 1)
    dots(points, 2)
    return img


def trajectory_to_gif(
    trajectory,
    path,
    kind: str = "particles",
    fps: float = 12,
    reference=None,
    lim: float | None = None,
    size: int = 256,
    radius: int = 1,
    nrow: int | None = None,
    upscale: int = 8,
    max_frames: int = 60,
    hold_last: float = 1.0,
) -> Path:
    """Write a trajectory as a looping GIF at ``path`` and return the path.

    kind: "particles" (frames (N, 2); ``lim`` is the half-width of the square
    view, by default the 99.5th percentile of |coordinates| of the last frame
    and the reference, times 1.15; ``size`` pixels square; dots of ``radius``)
    or "images" (frames (B, C, H, W) in [-1, 1]; ``nrow`` images per row;
    every pixel becomes ``upscale`` x ``upscale``). ``hold_last`` seconds of
    pause on the final frame before the loop restarts.
    """
    if kind not in ("particles", "images"):
        raise ValueError(f"kind must be 'particles' or 'images', got {kind!r}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    frames = _pick(_frames_array(trajectory), max_frames)
    path = Path(path)
    if kind == "particles":
        for f in frames:
            if f.ndim != 2 or f.shape[1] != 2:
                raise ValueError(f"particle frames must have shape (N, 2), got {f.shape}")
        ref = (
            None
            if reference is None
            else np.asarray(
                reference.detach().cpu().float()
                if isinstance(reference, torch.Tensor)
                else reference,
                np.float32,
            )
        )
        if lim is None:
            pool = frames[-1] if ref is None else np.concatenate([frames[-1], ref])
            pool = np.abs(pool[np.isfinite(pool).all(1)])
            lim = 1.15 * float(np.percentile(pool, 99.5)) if pool.size else 1.0
            lim = max(lim, 1e-3)
        images = [_particle_frame(f, ref, lim, size, radius) for f in frames]
    else:
        images = []
        for f in frames:
            if f.ndim != 4:
                raise ValueError(f"image frames must have shape (B, C, H, W), got {f.shape}")
            arr = np.round(make_grid(f, nrow) * 255).astype(np.uint8)
            img = Image.fromarray(arr)
            img = img.resize((img.width * upscale, img.height * upscale), Image.Resampling.NEAREST)
            # A fixed palette (grey levels or 6x6x6 colours) keeps the output deterministic.
            images.append(
                img.convert("P", dither=Image.Dither.NONE, palette=Image.Palette.WEB)
                if img.mode == "RGB"
                else img
            )
    duration = [int(round(1000 / fps))] * len(images)
    duration[-1] += int(round(1000 * hold_last))
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(
        path,
        save_all=True,
        append_images=images[1:],
        duration=duration,
        loop=0,
        optimize=False,
        disposal=1,
    )
    return path
