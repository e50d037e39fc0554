"""The gallery's shared look and seeds: every figure draws through these."""

from __future__ import annotations

from pathlib import Path

import torch


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 9,
            "svg.hashsalt": "diffcourse",
        }
    )
    return plt


def save(fig, path: Path) -> None:
    """PNG without metadata (no software version or date), so equal inputs give equal bytes."""
    fig.savefig(path, format="png", bbox_inches="tight", metadata={"Software": None})
    pyplot().close(fig)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)
