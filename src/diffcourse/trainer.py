"""Training diffusion models: a small, exact, resumable Trainer.

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

Its command line is ``diffcourse.train`` (``python -m diffcourse.train``, or the
``diffcourse-train`` script).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import torch

from diffcourse.losses import dsm_loss
from diffcourse.samplers import ddim_sample

CHECKPOINT_FILE = "checkpoint.pt"
MODEL_FILE = "model.pt"


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
