"""The command line of the Trainer (``diffcourse.trainer``): train on a folder or a built-in set.

``python -m diffcourse.train --help``, or the ``diffcourse-train`` script::

    python -m diffcourse.train --data digits --out runs/digits --conditional --steps 8000
    python -m diffcourse.train --data path/to/images --out runs/faces --model unet --image-size 16
    python -m diffcourse.train --data moons --out runs/moons --steps 3000
    python -m diffcourse.train --out runs/digits --resume          # continue the saved run

A run can be split over sessions: ``--stop-after N`` saves and stops after N
steps, ``--resume`` continues it exactly (the learning-rate schedule is laid
out over ``--steps`` from the start, so give the final total at the start;
raising ``--steps`` on resume stretches the remaining schedule).

Bad arguments end with a one-line ``error:`` message and exit status 2.

``Trainer`` and ``warmup_cosine`` are importable from here too (``from
diffcourse.train import Trainer``), as they were before the trainer got its own module.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from diffcourse.models import DigitsUNet, ImageMLP, TimeMLP, count_parameters
from diffcourse.schedules import make_schedule
from diffcourse.trainer import (
    CHECKPOINT_FILE,
    MODEL_FILE,
    Trainer,
    check_hyperparameters,
    default_device,
    warmup_cosine,
)

__all__ = ["Trainer", "build_parser", "default_device", "load_dataset", "main", "warmup_cosine"]

TOY_DATASETS = ("moons", "swiss_roll")
BUILTIN_DATASETS = ("digits",) + TOY_DATASETS


def load_dataset(name_or_path: str, image_size: int | None, channels: int | None, seed: int):
    """(data, labels or None, description) for a built-in name or a folder of images."""
    from diffcourse import data as datasets

    if name_or_path == "digits":
        if image_size not in (None, 8):
            raise ValueError(f"the digits are 8x8: --image-size must be 8, got {image_size}")
        if channels not in (None, 1):
            raise ValueError(f"the digits have one channel: --channels must be 1, got {channels}")
        images, labels = datasets.load_digits("train")
        return images, labels, "digits (1500 training images, 1x8x8)"
    if name_or_path in TOY_DATASETS:
        g = torch.Generator().manual_seed(seed)
        fn = datasets.two_moons if name_or_path == "moons" else datasets.swiss_roll
        return fn(10000, generator=g), None, f"{name_or_path} (10000 points in 2D)"
    path = Path(name_or_path)
    if not path.exists():
        raise ValueError(
            f"--data {name_or_path}: no such folder, and not a built-in data set "
            f"({', '.join(BUILTIN_DATASETS)})"
        )
    folder = datasets.ImageFolder(path, size=image_size or 32, channels=channels or 3)
    c, h, w = folder.images.shape[1:]
    return folder.images, None, f"{len(folder)} images from {path} ({c}x{h}x{w})"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m diffcourse.train",
        description="Train a small diffusion model on a folder of images or a built-in data set.",
    )
    p.add_argument("--data", help="a folder of images, or one of: " + ", ".join(BUILTIN_DATASETS))
    p.add_argument("--out", required=True, help="output folder (checkpoint.pt, model.pt, samples/)")
    p.add_argument("--steps", type=int, default=2000, help="total optimizer steps (default 2000)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default 2e-3)")
    p.add_argument("--warmup-steps", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--ema-decay", type=float, default=0.999)
    p.add_argument(
        "--image-size", type=int, default=None, help="images are resized to this (default 32)"
    )
    p.add_argument("--channels", type=int, default=None, choices=[1, 3], help="1 or 3 (default 3)")
    p.add_argument(
        "--model",
        choices=["mlp", "unet"],
        default=None,
        help="mlp (default for 2D data and digits) or unet (default for image folders)",
    )
    p.add_argument(
        "--width", type=int, default=None, help="MLP width (default 128 for 2D, 256 for images)"
    )
    p.add_argument(
        "--conditional", action="store_true", help="class-conditional (needs labels: digits)"
    )
    p.add_argument("--label-dropout", type=float, default=0.1)
    p.add_argument("--schedule", choices=["linear", "scaled_linear", "cosine"], default="cosine")
    p.add_argument("--prediction-type", choices=["epsilon", "x0", "v"], default="epsilon")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--sample-every", type=int, default=500, help="write a sample grid every N steps (0: never)"
    )
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--sample-steps", type=int, default=50, help="DDIM steps for sample grids")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument(
        "--threads", type=int, default=None, help="CPU threads for torch (default: torch's)"
    )
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument(
        "--stop-after",
        type=int,
        default=None,
        help="stop after this many steps in this session (checkpointed; continue with --resume)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _setup(args) -> Trainer:
    """Everything that can fail because of the arguments: data, model, trainer, checkpoint."""
    out = Path(args.out)
    ckpt_path = out / CHECKPOINT_FILE
    saved = None
    if args.resume:
        if not ckpt_path.is_file():
            raise ValueError(f"--resume: no checkpoint at {ckpt_path}")
        saved = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        run = saved.get("metadata", {}).get("run")
        if run is None:
            raise ValueError(f"{ckpt_path} was not written by this command line")
        # The saved run's arguments win, except the total number of steps (a run may be extended).
        steps = args.steps if args._steps_given else run["steps"]
        for key, value in run.items():
            setattr(args, key, value)
        args.steps = steps
    if args.data is None:
        raise ValueError(
            "--data is required (a folder of images or " + ", ".join(BUILTIN_DATASETS) + ")"
        )
    if args.image_size is not None and args.image_size < 1:
        raise ValueError(f"--image-size must be positive, got {args.image_size}")
    data, labels, description = load_dataset(args.data, args.image_size, args.channels, args.seed)
    check_hyperparameters(args.steps, args.batch_size, args.lr, data.shape[0])
    if args.conditional and labels is None:
        raise ValueError(
            f"--conditional needs a labelled data set (digits); {args.data} has no labels"
        )
    num_classes = 10 if args.conditional else None
    labels = labels if args.conditional else None
    is_image = data.dim() == 4
    kind = args.model or ("unet" if is_image and args.data != "digits" else "mlp")
    if not is_image and kind == "unet":
        raise ValueError(f"--model unet needs images; {args.data} is 2D data")
    torch.manual_seed(args.seed)  # model initialisation
    if not is_image:
        model = TimeMLP(
            data.shape[1], width=args.width or 128, num_blocks=3, num_classes=num_classes
        )
    elif kind == "mlp":
        model = ImageMLP(tuple(data.shape[1:]), width=args.width or 256, num_classes=num_classes)
    else:
        model = DigitsUNet(in_channels=data.shape[1], num_classes=num_classes)
        f = model.downsample_factor
        if data.shape[2] % f or data.shape[3] % f:
            raise ValueError(
                f"--image-size must be a multiple of {f} for the U-Net, got {data.shape[2]}"
            )
    trainer = Trainer(
        model,
        data,
        make_schedule(args.schedule),
        labels,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=args.warmup_steps,
        weight_decay=args.weight_decay,
        grad_clip=args.grad_clip,
        ema_decay=args.ema_decay,
        label_dropout=args.label_dropout,
        prediction_type=args.prediction_type,
        schedule=args.schedule,
        seed=args.seed,
        device=args.device,
        out_dir=out,
        sample_every=args.sample_every,
        checkpoint_every=args.checkpoint_every,
        sample_steps=args.sample_steps,
        progress=not args.no_progress,
    )
    if saved is not None:
        trainer.load_state_dict(saved)
        if trainer.step > trainer.steps:
            raise ValueError(
                f"--steps {trainer.steps} is below the checkpoint's step {trainer.step}"
            )
    trainer.metadata["run"] = {k: getattr(args, k) for k in RUN_KEYS}
    if args.data not in BUILTIN_DATASETS:  # resume works from any working directory
        trainer.metadata["run"]["data"] = str(Path(args.data).resolve())
    trainer.description = description
    return trainer


RUN_KEYS = (
    "data",
    "steps",
    "batch_size",
    "lr",
    "warmup_steps",
    "weight_decay",
    "grad_clip",
    "ema_decay",
    "image_size",
    "channels",
    "model",
    "width",
    "conditional",
    "label_dropout",
    "schedule",
    "prediction_type",
    "seed",
    "sample_every",
    "checkpoint_every",
    "sample_steps",
)


def main(argv=None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args._steps_given = any(a == "--steps" or a.startswith("--steps=") for a in argv)
    if args.threads is not None:
        if args.threads < 1:
            print(
                f"{parser.prog}: error: --threads must be >= 1, got {args.threads}", file=sys.stderr
            )
            return 2
        torch.set_num_threads(args.threads)
    try:
        trainer = _setup(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"{parser.prog}: error: {str(err).splitlines()[0]}", file=sys.stderr)
        return 2
    print(
        f"{trainer.description}; {type(trainer.model).__name__} with "
        f"{count_parameters(trainer.model):,} parameters on {trainer.device}; "
        f"steps {trainer.step} -> {trainer.steps}",
        flush=True,
    )
    if args.stop_after is not None:
        if args.stop_after < 1:
            print(f"{parser.prog}: error: --stop-after must be >= 1", file=sys.stderr)
            return 2
        trainer.train(min(trainer.steps, trainer.step + args.stop_after))
    else:
        trainer.train()
    if trainer.config["sample_every"]:
        trainer.write_samples()
    print(f"done: {trainer.out_dir / CHECKPOINT_FILE}, {trainer.out_dir / MODEL_FILE}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
