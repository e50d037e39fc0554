"""Restore damaged images with the course's pretrained digits model, measure, fill the report.

    python project.py evaluate    # restore, metrics against the originals, figures,
                                  # animation, results/results.json and the report's table
    python project.py reproduce   # the same from scratch: what `make reproduce` runs

Settings live in project.yml. Change the mask, the sampler or the data, or replace
`restore` with your own use of the model (guidance, views, interpolation...): keep
`evaluate` writing rows of (method, metric, value) and the report fills itself.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
import time
from pathlib import Path

import torch
import yaml

import diffcourse
from diffcourse.animate import trajectory_to_gif
from diffcourse.data import ImageFolder, load_digits
from diffcourse.inverse import repaint_sample
from diffcourse.judge import DigitsJudge
from diffcourse.plotting import save_image_grid
from diffcourse.pretrained import load_digits_model

HERE = Path(__file__).resolve().parent
RESULTS, REPORT = HERE / "results", HERE / "report.md"
PSNR = "PSNR on the missing pixels, dB (higher is better)"
ACCURACY = "judge reads the right digit (higher is better)"
MASKS = ("right-half", "bottom-half", "random-half", "centre-square")


def settings() -> dict:
    cfg = yaml.safe_load((HERE / "project.yml").read_text(encoding="utf-8"))
    if cfg["mask"] not in MASKS:
        sys.exit(f"error: project.yml: mask {cfg['mask']!r} is not one of {', '.join(MASKS)}")
    return cfg


def load_images(cfg: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """(images (N, 1, 8, 8) in [-1, 1], the digit each one shows)."""
    if cfg["data"] is None:
        images, labels = load_digits("test")
    else:
        images = ImageFolder(HERE / cfg["data"], size=8, channels=1).images
        labels = DigitsJudge().predict(images)  # what the judge reads in the originals
    n = min(cfg["images"], len(images))
    return images[:n], labels[:n]


def make_mask(kind: str, n: int, seed: int) -> torch.Tensor:
    """1 where a pixel is known, 0 where it must be restored; (n, 1, 8, 8)."""
    mask = torch.ones(n, 1, 8, 8)
    if kind == "right-half":
        mask[..., 4:] = 0
    elif kind == "bottom-half":
        mask[..., 4:, :] = 0
    elif kind == "centre-square":
        mask[..., 2:6, 2:6] = 0
    else:
        g = torch.Generator().manual_seed(seed)
        keep = torch.rand(n, 64, generator=g).argsort(dim=1) < 32
        mask = keep.float().reshape(n, 1, 8, 8)
    return mask


def psnr(x: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor) -> float:
    """Peak signal-to-noise ratio on the missing pixels, images in [-1, 1] (peak 2)."""
    missing = 1 - mask
    mse = (((x - truth) ** 2) * missing).sum() / missing.sum()
    return float(10 * torch.log10(4 / mse))


def evaluate(cfg: dict) -> dict:
    t0 = time.perf_counter()
    truth, labels = load_images(cfg)
    mask = make_mask(cfg["mask"], len(truth), cfg["seed"])
    observed = truth * mask
    model = load_digits_model()

    frames = []

    def predict(x, t):  # the model, recording every intermediate image for the animation
        frames.append(x[:16].clone())
        return model(x, t)

    rc = cfg["restore"]
    restored = repaint_sample(
        model, observed, mask, model.alphas_cumprod, torch.Generator().manual_seed(cfg["seed"]),
        num_steps=rc["steps"], jump_length=rc["jump_length"], resamplings=rc["resamplings"],
        clip_sample=True, predict=predict,
    ).clamp(-1, 1)  # fmt: skip
    train, _ = load_digits("train")
    baseline = mask * truth + (1 - mask) * train.mean(0, keepdim=True)

    judge = DigitsJudge()
    candidates = {
        f"RePaint ({rc['steps']} steps, {rc['resamplings']} resamplings)": restored,
        "Baseline: missing pixels set to the mean training digit": baseline,
        "Originals (what a perfect restoration reaches)": truth,
    }
    rows = []
    for method, x in candidates.items():
        if x is not truth:
            rows.append({"method": method, "metric": PSNR, "value": psnr(x, truth, mask)})
        rows.append({"method": method, "metric": ACCURACY, "value": judge.accuracy(x, labels)})

    RESULTS.mkdir(exist_ok=True)
    n = min(16, len(truth))
    masked_view = observed + (1 - mask) * -1  # missing pixels shown black
    grid = torch.cat([masked_view[:n], baseline[:n], restored[:n], truth[:n]])
    save_image_grid(grid, RESULTS / "samples.png", nrow=n)
    trajectory_to_gif([f.clamp(-1, 1) for f in frames] + [restored[:16]], RESULTS / "sampling.gif",
                      kind="images", nrow=4)  # fmt: skip
    return {
        "rows": rows,
        "images": len(truth),
        "figure rows": "masked, baseline, restored, original",
        "seconds_evaluate": round(time.perf_counter() - t0, 1),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "diffcourse": getattr(diffcourse, "__version__", "unknown"),
        },
        "settings": cfg,
    }


def write_results(results: dict) -> None:
    sys.path.insert(0, str(HERE))
    import results_table

    (RESULTS / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    results_table.fill(REPORT, results)
    for row in results["rows"]:
        print(f"{row['value']:10.4f}  {row['method']}: {row['metric']}")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("evaluate", "reproduce"):
        print(__doc__, file=sys.stderr)
        return 2
    cfg = settings()
    if argv[0] == "reproduce":
        shutil.rmtree(RESULTS, ignore_errors=True)
    write_results(evaluate(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
