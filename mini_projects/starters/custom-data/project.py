"""Train a diffusion model on a folder of images, sample it, measure it, fill the report.

    python project.py train       # train (resumes from runs/checkpoint.pt if it exists)
    python project.py evaluate    # samples, metric against the held-out split, figures,
                                  # animation, results/results.json and the report's table
    python project.py reproduce   # both, from scratch: what `make reproduce` runs

Settings live in project.yml. Everything is seeded: the same settings give the same
numbers on the same machine.
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
from diffcourse.data import ImageFolder
from diffcourse.metrics import sliced_wasserstein
from diffcourse.models import DigitsUNet, count_parameters
from diffcourse.plotting import save_image_grid
from diffcourse.pretrained import load_model
from diffcourse.samplers import ddim_sample
from diffcourse.schedules import make_schedule
from diffcourse.trainer import Trainer

HERE = Path(__file__).resolve().parent
RUNS, RESULTS, REPORT = HERE / "runs", HERE / "results", HERE / "report.md"
SW = "sliced Wasserstein to held-out (lower is better)"
PRECISION = "precision vs held-out, k=3 (higher is better)"
RECALL = "recall vs held-out, k=3 (higher is better)"


def settings() -> dict:
    return yaml.safe_load((HERE / "project.yml").read_text(encoding="utf-8"))


def split(cfg: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """(training images, held-out images): a seeded shuffle of the folder, then a cut."""
    folder = ImageFolder(HERE / cfg["data"], size=cfg["image_size"], channels=cfg["channels"])
    images = folder.images
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(cfg["seed"]))
    n_out = max(2, round(cfg["heldout_fraction"] * len(images)))
    if len(images) - n_out < 2:
        sys.exit(f"error: {cfg['data']} has {len(images)} images: too few to split")
    return images[order[n_out:]], images[order[:n_out]]


def train(cfg: dict) -> float:
    t0 = time.perf_counter()
    data, _ = split(cfg)
    tc = cfg["train"]
    torch.manual_seed(cfg["seed"])
    model = DigitsUNet(in_channels=cfg["channels"], channels=tuple(tc["unet_channels"]))
    trainer = Trainer(
        model,
        data,
        make_schedule(tc["schedule"]),
        steps=tc["steps"],
        batch_size=min(tc["batch_size"], len(data)),
        lr=tc["lr"],
        schedule=tc["schedule"],
        seed=cfg["seed"],
        out_dir=RUNS,
        checkpoint_every=tc["checkpoint_every"],
        sample_every=tc["sample_every"],
    )
    checkpoint = RUNS / "checkpoint.pt"
    if checkpoint.is_file():
        trainer.load_checkpoint(checkpoint)
        if trainer.metadata.get("settings") != cfg:
            sys.exit("error: project.yml changed since runs/checkpoint.pt: `make clean` first")
        print(f"resuming at step {trainer.step} of {trainer.steps}")
    trainer.metadata["settings"] = cfg
    print(f"{len(data)} training images; U-Net with {count_parameters(model):,} parameters")
    trainer.train()
    torch.save(trainer.losses, RUNS / "losses.pt")
    return time.perf_counter() - t0


def gaussian_baseline(data: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """n draws from the Gaussian with the training images' mean and covariance."""
    flat = data.flatten(1).double()
    mean = flat.mean(0)
    centred = (flat - mean) / (len(flat) - 1) ** 0.5  # cov = centred.T @ centred
    z = torch.randn(n, len(flat), generator=torch.Generator().manual_seed(seed), dtype=flat.dtype)
    return (mean + z @ centred).float().clamp(-1, 1).reshape(n, *data.shape[1:])


def evaluate(cfg: dict) -> dict:
    t0 = time.perf_counter()
    data, heldout = split(cfg)
    ec, seed = cfg["evaluate"], cfg["seed"]
    model = load_model(RUNS / "model.pt")
    n = ec["samples"]
    shape = (n, *data.shape[1:])
    gen = torch.Generator().manual_seed(seed + 1)
    samples, trajectory = ddim_sample(
        model, shape, model.alphas_cumprod, ec["sampler_steps"], gen,
        clip_sample=True, return_trajectory=True,
    )  # fmt: skip
    baseline = gaussian_baseline(data, n, seed + 2)
    pick = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed + 3))[:n]

    def distance(x: torch.Tensor) -> float:
        g = torch.Generator().manual_seed(seed + 4)  # the same projections for every row
        return float(sliced_wasserstein(x.flatten(1), heldout.flatten(1), 256, g))

    candidates = {
        f"Diffusion model (DDIM, {ec['sampler_steps']} steps)": samples,
        "Gaussian baseline (training mean and covariance)": baseline,
        "Training images (what real data reaches)": data[pick],
    }
    rows = []
    for method, x in candidates.items():
        rows.append({"method": method, "metric": SW, "value": distance(x)})
        precision, recall = precision_recall(x, heldout)
        rows.append({"method": method, "metric": PRECISION, "value": precision})
        rows.append({"method": method, "metric": RECALL, "value": recall})
    RESULTS.mkdir(exist_ok=True)
    save_image_grid(samples[:64], RESULTS / "samples.png", nrow=8)
    save_image_grid(baseline[:64], RESULTS / "baseline.png", nrow=8)
    save_image_grid(heldout[:64], RESULTS / "heldout.png", nrow=8)
    trajectory_to_gif(trajectory[:, :16], RESULTS / "sampling.gif", kind="images", nrow=4)
    plot_losses(torch.load(RUNS / "losses.pt"), RESULTS / "loss.png")
    return {
        "rows": rows,
        "images": {"train": len(data), "heldout": len(heldout), "samples": n},
        "seconds_evaluate": round(time.perf_counter() - t0, 1),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "diffcourse": getattr(diffcourse, "__version__", "unknown"),
        },
        "settings": cfg,
    }


def precision_recall(x: torch.Tensor, y: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of samples x against data y.

    Each set's manifold is the union of balls around its points reaching their k-th
    nearest neighbour. Precision: the share of samples inside the data's manifold (are
    samples realistic?). Recall: the share of data inside the samples' manifold (do
    samples cover the data?). Both lie in [0, 1]; higher is better.
    """
    x, y = x.flatten(1).double(), y.flatten(1).double()
    k = min(k, len(x) - 1, len(y) - 1)
    radius_x = torch.cdist(x, x).kthvalue(k + 1, dim=1).values  # k+1: the point itself is 0
    radius_y = torch.cdist(y, y).kthvalue(k + 1, dim=1).values
    cross = torch.cdist(x, y)  # (n, m)
    precision = (cross <= radius_y[None, :]).any(dim=1).double().mean()
    recall = (cross <= radius_x[:, None]).any(dim=0).double().mean()
    return float(precision), float(recall)


def plot_losses(losses: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = max(1, len(losses) // 100)
    smooth = [sum(losses[i : i + k]) / k for i in range(0, len(losses) - k + 1, k)]
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([i * k for i in range(len(smooth))], smooth)
    ax.set(xlabel="step", ylabel="training loss", yscale="log")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_results(results: dict) -> None:
    sys.path.insert(0, str(HERE))
    import results_table

    (RESULTS / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    results_table.fill(REPORT, results)
    for row in results["rows"]:
        print(f"{row['value']:10.4f}  {row['method']}: {row['metric']}")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("train", "evaluate", "reproduce"):
        print(__doc__, file=sys.stderr)
        return 2
    cfg = settings()
    if argv[0] == "reproduce":
        shutil.rmtree(RUNS, ignore_errors=True)
        shutil.rmtree(RESULTS, ignore_errors=True)
    if argv[0] in ("train", "reproduce"):
        seconds = train(cfg)
        print(f"trained in {seconds:.0f} s")
    if argv[0] in ("evaluate", "reproduce"):
        results = evaluate(cfg)
        if argv[0] == "reproduce":
            results["seconds_train"] = round(seconds, 1)
        write_results(results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
