"""Low-rank adapters (LoRA; Hu et al. 2022) for fine-tuning a pretrained denoiser cheaply.

A frozen linear layer W x + b gains a trainable update (alpha / r) B A x with A (r, in)
and B (out, r). B starts at zero, so the adapted model starts exactly as the pretrained
one; only r (in + out) numbers per layer are trained and stored, and the update can be
merged into W afterwards for free inference (lecture 15).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["LoRALinear", "add_lora", "merge_lora"]


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable rank-r update scaled by alpha / r."""

    def __init__(self, base: nn.Linear, rank: int = 4, alpha: float = 4.0):
        super().__init__()
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise ValueError(f"rank must be a positive int, got {rank!r}")
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.rank, self.scaling = rank, alpha / rank
        self.A = nn.Parameter(torch.empty(rank, base.in_features, dtype=base.weight.dtype))
        self.B = nn.Parameter(torch.zeros(base.out_features, rank, dtype=base.weight.dtype))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))  # as nn.Linear initialises weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scaling * (x @ self.A.T) @ self.B.T

    def merged_weight(self) -> torch.Tensor:
        """W + (alpha / r) B A: the plain weight with the same output."""
        return self.base.weight + self.scaling * self.B @ self.A


def add_lora(model: nn.Module, rank: int = 4, alpha: float = 4.0, names=None) -> list[str]:
    """Replace the model's nn.Linear layers (those whose name contains one of ``names``, or
    all) by LoRALinear, freeze everything else, and return the replaced layers' names."""
    for p in model.parameters():
        p.requires_grad_(False)
    targets = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and (names is None or any(n in name for n in names))
    ]
    if not targets:
        raise ValueError(f"no nn.Linear layer matches {names!r}")
    for name, module in targets:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, LoRALinear(module, rank, alpha))
    return [name for name, _ in targets]


def merge_lora(model: nn.Module) -> int:
    """Fold every LoRALinear back into a plain nn.Linear (in place); return how many."""
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, LoRALinear)]
    for name, module in found:
        merged = nn.Linear(module.base.in_features, module.base.out_features,
                           bias=module.base.bias is not None)  # fmt: skip
        with torch.no_grad():
            merged.weight.copy_(module.merged_weight())
            if module.base.bias is not None:
                merged.bias.copy_(module.base.bias)
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, merged.to(module.base.weight.dtype))
    return len(found)
