"""Small denoising networks for the course: eps_theta(x_t, t, y).

Every model is called as ``model(x, t, labels=None)``:

- ``x``: the noisy input x_t, (B, D) for :class:`TimeMLP`, (B, C, H, W) for
  :class:`ImageMLP` and :class:`DigitsUNet`; the output has the same shape.
- ``t``: a LongTensor (B,) of 0-based timesteps in {0, ..., T-1} (a Python int
  or a 0-d tensor is broadcast to the batch for convenience).
- ``labels``: a LongTensor (B,) of class labels for a class-conditional model
  (``num_classes`` given). The label ``num_classes`` is the null label: the
  model then predicts unconditionally (classifier-free guidance trains it by
  label dropout). ``labels=None`` means "all null". An unconditional model
  (``num_classes=None``) refuses labels.

Conditioning works the same way in all three models: a sinusoidal embedding of
t goes through a small MLP, a learned class embedding (num_classes + 1 rows,
the last one for the null label) is added to it, and every residual block
reads the sum through FiLM (a per-channel scale and shift).

Every model keeps its constructor arguments in ``model.config`` so that a
checkpoint can rebuild it with :func:`build_model`.

This module is handed to students as a support file: it imports only torch.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps (Vaswani et al.; DDPM).

    t: (B,) integer or float tensor. Returns (B, dim) float32: cos of the first
    half of the frequencies, then sin. Frequencies are geometric from 1 to
    1/max_period, so nearby timesteps get nearby but distinguishable codes.
    """
    if dim % 2 != 0:
        raise ValueError(f"dim must be even, got {dim}")
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )  # (half,)
    angles = t.to(torch.float32)[:, None] * freqs[None, :]  # (B, half)
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)  # (B, dim)


def _check_inputs(model: nn.Module, x: torch.Tensor, t, labels, ndim: int) -> tuple:
    """Validate (x, t, labels) and return t and labels as LongTensors (B,) on x's device."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != ndim:
        raise ValueError(
            f"x must have {ndim} dimensions for {type(model).__name__}, got shape {tuple(x.shape)}"
        )
    batch = x.shape[0]
    t = torch.as_tensor(t, device=x.device)
    if t.is_floating_point() or t.is_complex():
        raise ValueError(f"t must hold integer timesteps, got dtype {t.dtype}")
    if t.dim() == 0:
        t = t.expand(batch)
    if t.shape != (batch,):
        raise ValueError(f"t must have shape (B,) = ({batch},), got {tuple(t.shape)}")
    t = t.long()
    num_classes = model.num_classes
    if num_classes is None:
        if labels is not None:
            raise ValueError("labels were given but this model is unconditional (num_classes=None)")
        return t, None
    if labels is None:
        labels = torch.full((batch,), num_classes, dtype=torch.long, device=x.device)
    labels = torch.as_tensor(labels, device=x.device)
    if labels.is_floating_point():
        raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}")
    if labels.dim() == 0:
        labels = labels.expand(batch)
    if labels.shape != (batch,):
        raise ValueError(f"labels must have shape (B,) = ({batch},), got {tuple(labels.shape)}")
    labels = labels.long()
    if labels.numel() and (labels.min() < 0 or labels.max() > num_classes):
        raise ValueError(
            f"labels must lie in 0..{num_classes} ({num_classes} is the null label), "
            f"got values in {labels.min().item()}..{labels.max().item()}"
        )
    return t, labels


class ConditionEmbedding(nn.Module):
    """t (and optionally a class label) -> one conditioning vector (B, emb_dim)."""

    def __init__(self, emb_dim: int, num_classes: int | None):
        super().__init__()
        self.emb_dim = emb_dim
        self.time_mlp = nn.Sequential(
            nn.Linear(emb_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
        )
        # num_classes + 1 rows: the last row is the learned null (unconditional) label.
        self.class_emb = nn.Embedding(num_classes + 1, emb_dim) if num_classes is not None else None

    def forward(self, t: torch.Tensor, labels: torch.Tensor | None, dtype) -> torch.Tensor:
        emb = timestep_embedding(t, self.emb_dim).to(dtype)  # (B, emb_dim)
        emb = self.time_mlp(emb)
        if self.class_emb is not None:
            emb = emb + self.class_emb(labels)
        return emb  # (B, emb_dim)


class FiLMResidualBlock(nn.Module):
    """h + MLP(FiLM(LayerNorm(h), emb)): a pre-norm residual block for vectors."""

    def __init__(self, width: int, emb_dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.film = nn.Linear(emb_dim, 2 * width)  # -> (scale, shift)
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        # Start as the identity map: the residual branch's last layer is zero.
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(F.silu(emb)).chunk(2, dim=1)  # (B, width) each
        z = self.norm(h) * (1 + scale) + shift  # (B, width)
        z = self.fc2(F.silu(self.fc1(F.silu(z))))
        return h + z


class TimeMLP(nn.Module):
    """Residual MLP for low-dimensional data (2D toys), eps_theta(x_t, t, y): (B, D) -> (B, D)."""

    def __init__(
        self,
        data_dim: int = 2,
        width: int = 128,
        num_blocks: int = 3,
        emb_dim: int = 64,
        num_classes: int | None = None,
    ):
        super().__init__()
        for name, value in [
            ("data_dim", data_dim),
            ("width", width),
            ("num_blocks", num_blocks),
            ("emb_dim", emb_dim),
        ]:
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if num_classes is not None and (int(num_classes) != num_classes or num_classes < 1):
            raise ValueError(f"num_classes must be a positive integer or None, got {num_classes!r}")
        self.config = dict(
            data_dim=data_dim,
            width=width,
            num_blocks=num_blocks,
            emb_dim=emb_dim,
            num_classes=num_classes,
        )
        self.data_dim = data_dim
        self.num_classes = num_classes
        self.null_label = num_classes
        self.cond = ConditionEmbedding(emb_dim, num_classes)
        self.inp = nn.Linear(data_dim, width)
        self.blocks = nn.ModuleList([FiLMResidualBlock(width, emb_dim) for _ in range(num_blocks)])
        self.out_norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, data_dim)

    def forward(self, x: torch.Tensor, t, labels=None) -> torch.Tensor:
        t, labels = _check_inputs(self, x, t, labels, ndim=2)
        if x.shape[1] != self.data_dim:
            raise ValueError(f"x must have shape (B, {self.data_dim}), got {tuple(x.shape)}")
        emb = self.cond(t, labels, x.dtype)  # (B, emb_dim)
        h = self.inp(x)  # (B, width)
        for block in self.blocks:
            h = block(h, emb)
        return self.out(F.silu(self.out_norm(h)))  # (B, D)


class ImageMLP(TimeMLP):
    """The residual MLP applied to flattened images: (B, C, H, W) -> (B, C, H, W).

    On 8x8 digits (4 blocks, width 256) it trains in about two minutes on two
    CPU threads and is the course's pretrained digits model.
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int] = (1, 8, 8),
        width: int = 256,
        num_blocks: int = 4,
        emb_dim: int = 128,
        num_classes: int | None = None,
    ):
        image_shape = tuple(int(s) for s in image_shape)
        if len(image_shape) != 3 or min(image_shape) < 1:
            raise ValueError(f"image_shape must be (C, H, W), got {image_shape!r}")
        super().__init__(math.prod(image_shape), width, num_blocks, emb_dim, num_classes)
        self.image_shape = image_shape
        self.config = dict(
            image_shape=list(image_shape),
            width=width,
            num_blocks=num_blocks,
            emb_dim=emb_dim,
            num_classes=num_classes,
        )

    def forward(self, x: torch.Tensor, t, labels=None) -> torch.Tensor:
        if (
            not isinstance(x, torch.Tensor)
            or x.dim() != 4
            or tuple(x.shape[1:]) != self.image_shape
        ):
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"x must have shape (B, {', '.join(map(str, self.image_shape))}), got {shape}"
            )
        flat = x.reshape(x.shape[0], -1)  # (B, C*H*W)
        return super().forward(flat, t, labels).reshape(x.shape)  # (B, C, H, W)


def _groups(channels: int) -> int:
    """Largest group count <= 8 that divides the channel count (GroupNorm needs it)."""
    return max(g for g in range(1, 9) if channels % g == 0)


class ConvResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, FiLM from the conditioning vector, a skip connection."""

    def __init__(self, in_ch: int, out_ch: int, emb_dim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(in_ch), in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * out_ch)
        self.norm2 = nn.GroupNorm(_groups(out_ch), out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        z = self.conv1(F.silu(self.norm1(h)))  # (B, out, H, W)
        scale, shift = self.film(F.silu(emb))[:, :, None, None].chunk(2, dim=1)  # (B, out, 1, 1)
        z = self.norm2(z) * (1 + scale) + shift
        z = self.conv2(F.silu(z))
        return self.skip(h) + z


class DigitsUNet(nn.Module):
    """A small convolutional U-Net with FiLM conditioning: (B, C, H, W) -> (B, C, H, W).

    ``channels`` gives the width at each resolution; every level after the
    first halves H and W (stride-2 conv down, nearest upsampling up), so H and W
    must be multiples of ``downsample_factor = 2 ** (len(channels) - 1)``.
    The default (32, 64) maps 8x8 digits to 4x4 and back.
    """

    def __init__(
        self,
        in_channels: int = 1,
        channels: tuple[int, ...] = (32, 64),
        emb_dim: int = 128,
        num_classes: int | None = None,
    ):
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if len(channels) < 1 or min(channels) < 1:
            raise ValueError(f"channels must be a non-empty tuple of positive ints, got {channels}")
        if int(in_channels) != in_channels or in_channels < 1:
            raise ValueError(f"in_channels must be a positive integer, got {in_channels!r}")
        self.config = dict(
            in_channels=in_channels,
            channels=list(channels),
            emb_dim=emb_dim,
            num_classes=num_classes,
        )
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.null_label = num_classes
        self.downsample_factor = 2 ** (len(channels) - 1)
        self.cond = ConditionEmbedding(emb_dim, num_classes)
        self.conv_in = nn.Conv2d(in_channels, channels[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        self.downsamplers = nn.ModuleList()
        for i, ch in enumerate(channels):
            self.down_blocks.append(ConvResBlock(ch, ch, emb_dim))
            if i + 1 < len(channels):
                self.downsamplers.append(nn.Conv2d(ch, channels[i + 1], 3, stride=2, padding=1))
        self.mid = ConvResBlock(channels[-1], channels[-1], emb_dim)
        self.upsamplers = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        for i in reversed(range(len(channels) - 1)):
            self.upsamplers.append(nn.Conv2d(channels[i + 1], channels[i], 3, padding=1))
            self.up_blocks.append(ConvResBlock(2 * channels[i], channels[i], emb_dim))
        self.out_norm = nn.GroupNorm(_groups(channels[0]), channels[0])
        self.conv_out = nn.Conv2d(channels[0], in_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, t, labels=None) -> torch.Tensor:
        t, labels = _check_inputs(self, x, t, labels, ndim=4)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x must have {self.in_channels} channels, got shape {tuple(x.shape)}")
        f = self.downsample_factor
        if x.shape[2] % f or x.shape[3] % f:
            raise ValueError(
                f"image height and width must be multiples of {f} for this U-Net, "
                f"got {tuple(x.shape[2:])}"
            )
        emb = self.cond(t, labels, x.dtype)  # (B, emb_dim)
        h = self.conv_in(x)  # (B, c0, H, W)
        skips = []
        for i, block in enumerate(self.down_blocks):
            h = block(h, emb)
            if i < len(self.downsamplers):
                skips.append(h)  # (B, c_i, H / 2^i, W / 2^i)
                h = self.downsamplers[i](h)
        h = self.mid(h, emb)
        for upsample, block in zip(self.upsamplers, self.up_blocks, strict=True):
            h = upsample(F.interpolate(h, scale_factor=2, mode="nearest"))
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
        return self.conv_out(F.silu(self.out_norm(h)))  # (B, C, H, W)


MODEL_CLASSES = {cls.__name__: cls for cls in (TimeMLP, ImageMLP, DigitsUNet)}


def build_model(name: str, config: dict) -> nn.Module:
    """Rebuild a model from its class name and ``model.config`` (used by checkpoints)."""
    if name not in MODEL_CLASSES:
        raise ValueError(f"unknown model class {name!r}; expected one of {sorted(MODEL_CLASSES)}")
    return MODEL_CLASSES[name](**config)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
