"""Write a small example data set: coloured discs and squares on plain backgrounds.

    python make_example_data.py data 600

It stands in for your own images until you point project.yml at them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def make(folder: Path, count: int, size: int = 32, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        background = tuple(int(v) for v in rng.integers(0, 80, 3))
        colour = tuple(int(v) for v in rng.integers(120, 256, 3))
        img = Image.new("RGB", (size, size), background)
        draw = ImageDraw.Draw(img)
        r = rng.uniform(0.2, 0.35) * size
        cx, cy = rng.uniform(r, size - r, 2)
        box = [cx - r, cy - r, cx + r, cy + r]
        (draw.ellipse if i % 2 else draw.rectangle)(box, fill=colour)
        img.save(folder / f"shape_{i:04d}.png")


if __name__ == "__main__":
    make(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 600)
