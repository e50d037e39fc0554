"""Training diffusion models: a small, exact, resumable Trainer and its command line.

The Trainer minimises the denoising score-matching loss (``losses.dsm_loss``)
with AdamW, a linear warm-up followed by cosine decay of the learning rate,
gradient-norm clipping and an exponential moving average (EMA) of the weights,
which is the model one samples from. For class-conditional models a fraction
``label_dropout`` of the labels is replaced by the null label (num_classes), so
the same network also learns the unconditional prediction that
classifier-free guidance needs.

Every random draw of training (batch indices, timesteps, noise, label
dropout) comes from one CPU ``torch.Generator`` seeded by ``seed``; its state
is saved in checkpoints with the model, EMA, optimizer, scheduler and step, so
that a resumed run is bit-for-bit the uninterrupted one on CPU. Sample grids
use their own fixed generator and never disturb the training stream.

Command line (``python -m diffcourse.train --help``)::

    python -m diffcourse.train --data digits --out runs/digits --conditional --steps 8000
    python -m diffcourse.train --data path/to/images --out runs/faces --model unet --image-size 16
    python -m diffcourse.train --data moons --out runs/moons --steps 3000
    python -m diffcourse.train --out runs/digits --resume          # continue the saved run

A run can be split over sessions: ``--stop-after N`` saves and stops after N
steps, ``--resume`` continues it exactly (the learning-rate schedule is laid
out over ``--steps`` from the start, so give the final total at the start;
raising ``--steps`` on resume stretches the remaining schedule).

Bad arguments end with a one-line ``error:`` message and exit status 2.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
from pathlib import Path

import torch

from diffcourse.losses import dsm_loss
from diffcourse.models import DigitsUNet, ImageMLP, TimeMLP, count_parameters
from diffcourse.samplers import ddim_sample
from diffcourse.schedules import make_schedule

CHECKPOINT_FILE = "checkpoint.pt"
MODEL_FILE = "model.pt"
TOY_DATASETS = ("moons", "swiss_roll")
BUILTIN_DATASETS = ("digits",) + TOY_DATASETS


def warmup_cosine(step: int, warmup_steps: int, total_steps: int) -> float:
    """LR multiplier: linear up to 1 over the warm-up, then a cosine down to 0 at the end."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


class Trainer:
    """Train ``model`` on ``data`` (N, ...) (with ``labels`` (N,) for a conditional model).

    ``train()`` runs until ``steps`` optimizer steps are done in total (so it
    continues a resumed run); ``save_checkpoint``/``load_checkpoint`` hold the
    complete state; ``export`` writes the EMA weights alone, in the format
    ``diffcourse.pretrained`` loads. With ``out_dir`` set, a checkpoint is
    written every ``checkpoint_every`` steps and at the end, and a grid of DDIM
    samples from the EMA model every ``sample_every`` steps (0 = never).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        data: torch.Tensor,
        alphas_cumprod: torch.Tensor,
        labels: torch.Tensor | None = None,
        *,
        steps: int = 2000,
        batch_size: int = 128,
        lr: float = 2e-3,
        warmup_steps: int = 200,
        weight_decay: float = 0.0,
        grad_clip: float = 1.0,
        ema_decay: float = 0.999,
        label_dropout: float = 0.1,
        prediction_type: str = "epsilon",
        schedule: str = "custom",
        seed: int = 0,
        device=None,
        out_dir=None,
        sample_every: int = 0,
        checkpoint_every: int = 0,
        sample_steps: int = 50,
        progress: bool = True,
    ):
        if not isinstance(data, torch.Tensor) or data.dim() < 2:
            raise ValueError("data must be a tensor (N, ...) with one example per row")
        n = data.shape[0]
        check_hyperparameters(steps=steps, batch_size=batch_size, lr=lr, num_examples=n)
        if warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        if grad_clip is not None and grad_clip <= 0:
            raise ValueError(f"grad_clip must be positive (or None), got {grad_clip}")
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}")
        if not 0.0 <= label_dropout <= 1.0:
            raise ValueError(f"label_dropout must be in [0, 1], got {label_dropout}")
        if sample_every < 0 or checkpoint_every < 0:
            raise ValueError("sample_every and checkpoint_every must be >= 0")
        num_classes = getattr(model, "num_classes", None)
        if num_classes is not None and labels is None:
            raise ValueError("the model is class-conditional: labels are required")
        if num_classes is None and labels is not None:
            raise ValueError("labels were given but the model is unconditional (num_classes=None)")
        if labels is not None:
            labels = torch.as_tensor(labels).long()
            if labels.shape != (n,):
                raise ValueError(f"labels must have shape ({n},), got {tuple(labels.shape)}")
            if labels.min() < 0 or labels.max() >= num_classes:
                raise ValueError(f"labels must lie in 0..{num_classes - 1}")
        alphas_cumprod = torch.as_tensor(alphas_cumprod, dtype=torch.float64)
        if alphas_cumprod.dim() != 1:
            raise ValueError("alphas_cumprod must be a 1-D tensor (T,)")

        self.device = torch.device(device) if device is not None else default_device()
        self.model = model.to(self.device)
        self.ema = copy.deepcopy(self.model).requires_grad_(False).eval()
        self.data = data.to(self.device)
        self.labels = labels.to(self.device) if labels is not None else None
        self.alphas_cumprod = alphas_cumprod.to(self.device)
        self.num_classes = num_classes
        self.config = dict(
            steps=int(steps),
            batch_size=int(batch_size),
            lr=float(lr),
            warmup_steps=int(min(warmup_steps, steps)),
            weight_decay=float(weight_decay),
            grad_clip=None if grad_clip is None else float(grad_clip),
            ema_decay=float(ema_decay),
            label_dropout=float(label_dropout),
            prediction_type=prediction_type,
            schedule=schedule,
            seed=int(seed),
            sample_every=int(sample_every),
            checkpoint_every=int(checkpoint_every),
            sample_steps=int(sample_steps),
        )
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.progress = progress
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_lambda)
        self.generator = torch.Generator().manual_seed(int(seed))
        self.step = 0
        self.losses: list[float] = []
        self.metadata: dict = {}  # saved with checkpoints (the CLI keeps its arguments here)

    @property
    def steps(self) -> int:
        return self.config["steps"]

    def _lr_lambda(self, step: int) -> float:
        return warmup_cosine(step, self.config["warmup_steps"], self.config["steps"])

    # ------------------------------------------------------------------ training

    def training_step(self) -> float:
        """One optimizer step on a fresh random batch; returns the loss."""
        cfg, g = self.config, self.generator
        n, T = self.data.shape[0], self.alphas_cumprod.shape[0]
        # All draws on the CPU generator, in a fixed order, then moved: reproducible anywhere.
        idx = torch.randint(n, (cfg["batch_size"],), generator=g)  # (B,)
        t = torch.randint(T, (cfg["batch_size"],), generator=g)  # (B,)
        x0 = self.data[idx.to(self.device)]  # (B, ...)
        noise = torch.randn(x0.shape, generator=g, dtype=x0.dtype).to(self.device)
        labels = None
        if self.labels is not None:
            drop = torch.rand(cfg["batch_size"], generator=g) < cfg["label_dropout"]  # (B,)
            labels = self.labels[idx.to(self.device)]
            labels = torch.where(
                drop.to(self.device), torch.full_like(labels, self.num_classes), labels
            )
        self.model.train()
        loss = dsm_loss(
            self.model,
            x0,
            t.to(self.device),
            noise,
            self.alphas_cumprod,
            cfg["prediction_type"],
            labels,
        )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg["grad_clip"] is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg["grad_clip"])
        self.optimizer.step()
        self.scheduler.step()
        self._update_ema()
        self.step += 1
        return loss.item()

    @torch.no_grad()
    def _update_ema(self) -> None:
        decay = self.config["ema_decay"]
        for p_ema, p in zip(self.ema.parameters(), self.model.parameters(), strict=True):
            p_ema.lerp_(p, 1.0 - decay)  # p_ema = decay * p_ema + (1 - decay) * p
        for b_ema, b in zip(self.ema.buffers(), self.model.buffers(), strict=True):
            b_ema.copy_(b)

    def train(self, steps: int | None = None) -> list[float]:
        """Train until ``steps`` (default: the configured total) are done; return all losses."""
        from tqdm.auto import tqdm

        target = self.steps if steps is None else int(steps)
        if target > self.steps:
            raise ValueError(f"steps ({target}) exceeds the configured total ({self.steps})")
        cfg = self.config
        bar = tqdm(
            total=target, initial=self.step, disable=not self.progress, desc="training", leave=False
        )
        while self.step < target:
            loss = self.training_step()
            self.losses.append(loss)
            bar.update(1)
            if self.step % 50 == 0:
                bar.set_postfix(loss=f"{sum(self.losses[-50:]) / len(self.losses[-50:]):.4f}")
            if self.out_dir is not None:
                if cfg["sample_every"] and self.step % cfg["sample_every"] == 0:
                    self.write_samples()
                if cfg["checkpoint_every"] and self.step % cfg["checkpoint_every"] == 0:
                    self.save_checkpoint(self.out_dir / CHECKPOINT_FILE)
        bar.close()
        if self.out_dir is not None:
            self.save_checkpoint(self.out_dir / CHECKPOINT_FILE)
            self.export(self.out_dir / MODEL_FILE, half=False)
        return self.losses

    # ------------------------------------------------------------------ sampling

    @torch.no_grad()
    def sample(self, n: int, seed: int = 1234, labels=None, guidance_scale=None) -> torch.Tensor:
        """n DDIM samples from the EMA model (their own generator: training is undisturbed)."""
        g = torch.Generator().manual_seed(seed)
        shape = (n,) + tuple(self.data.shape[1:])
        x_T = torch.randn(shape, generator=g).to(self.device, self.data.dtype)
        is_image = self.data.dim() == 4
        return ddim_sample(
            self.ema,
            shape,
            self.alphas_cumprod,
            self.config["sample_steps"],
            g,
            labels=labels,
            guidance_scale=guidance_scale,
            clip_sample=is_image,
            prediction_type=self.config["prediction_type"],
            x_T=x_T,
        )

    def write_samples(self) -> Path:
        """Write a grid (images) or a scatter plot (2D data) of EMA samples to out_dir/samples/."""
        folder = self.out_dir / "samples"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"step_{self.step:07d}.png"
        if self.data.dim() == 4:
            from diffcourse.plotting import save_image_grid

            if self.num_classes is not None:
                labels = torch.arange(self.num_classes, device=self.device).repeat(4)  # 4 rows
                x = self.sample(len(labels), labels=labels, guidance_scale=2.0)
                save_image_grid(x, path, nrow=self.num_classes)
            else:
                save_image_grid(self.sample(64), path, nrow=8)
        else:
            import matplotlib

            matplotlib.use("Agg", force=False)
            import matplotlib.pyplot as plt

            from diffcourse.plotting import plot_2d

            x = self.sample(1000)
            fig = plot_2d(x[:, :2], reference=self.data[:1000, :2], title=f"step {self.step}")
            fig.savefig(path, dpi=80)
            plt.close(fig)
        return path

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict:
        return dict(
            format="diffcourse-trainer-1",
            model_class=type(self.model).__name__,
            model_config=dict(self.model.config),
            model=self.model.state_dict(),
            ema=self.ema.state_dict(),
            optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(),
            generator=self.generator.get_state(),
            step=self.step,
            losses=list(self.losses),
            config=dict(self.config),
            alphas_cumprod=self.alphas_cumprod.cpu(),
            metadata=dict(self.metadata),
        )

    def load_state_dict(self, state: dict) -> None:
        if state.get("format") != "diffcourse-trainer-1":
            raise ValueError("not a diffcourse trainer checkpoint")
        if state["model_class"] != type(self.model).__name__:
            raise ValueError(
                f"checkpoint holds a {state['model_class']}, "
                f"this trainer a {type(self.model).__name__}"
            )
        self.model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        self.step = int(state["step"])
        self.losses = list(state["losses"])
        self.config.update({k: v for k, v in state["config"].items() if k != "steps"})
        self.metadata = dict(state.get("metadata", {}))

    def save_checkpoint(self, path) -> Path:
        """Write the complete training state (atomically: a temporary file, then a rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(self.state_dict(), tmp)
        tmp.replace(path)
        return path

    def load_checkpoint(self, path) -> None:
        """Restore a state written by ``save_checkpoint`` (read with weights_only=True)."""
        self.load_state_dict(torch.load(Path(path), map_location="cpu", weights_only=True))

    def export(self, path, half: bool = True, extra: dict | None = None) -> Path:
        """Write the EMA weights as a model file for ``diffcourse.pretrained`` (fp16: half)."""
        state = {
            k: (v.half() if half and v.is_floating_point() else v).cpu().clone()
            for k, v in self.ema.state_dict().items()
        }
        payload = dict(
            model_class=type(self.model).__name__,
            model_config=dict(self.model.config),
            state_dict=state,
            alphas_cumprod=self.alphas_cumprod.cpu().to(torch.float64),
            prediction_type=self.config["prediction_type"],
            schedule=self.config["schedule"],
            num_classes=self.num_classes,
            training=dict(self.config, trained_steps=self.step),
        )
        if extra:
            payload.update(extra)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(payload, path)
        return path


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def check_hyperparameters(steps, batch_size, lr, num_examples) -> None:
    """Refuse hyper-parameters that cannot train, with a message naming the argument."""
    if isinstance(steps, bool) or int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch size must be a positive integer, got {batch_size!r}")
    if batch_size > num_examples:
        raise ValueError(
            f"batch size {batch_size} is larger than the data set ({num_examples} examples)"
        )
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"learning rate must be a positive number, got {lr!r}")


# ---------------------------------------------------------------------- command line


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
