"""The course's pretrained class-conditional digits model, loaded from a local file.

``load_digits_model()`` returns an eps-prediction network for 8x8 digits in
[-1, 1] (shape (B, 1, 8, 8)), trained with a cosine schedule (T = 1000) and
label dropout to the null label 10 for classifier-free guidance. The returned
module is in eval mode, has gradients switched off, and carries what a
sampler needs:

    model.alphas_cumprod    float64 (T,) tensor, on the model's device
    model.num_classes       10
    model.null_label        10 (labels=None means the same)
    model.prediction_type   "epsilon"
    model.schedule          "cosine"

The weights ship inside the package (``checkpoints/digits_mlp.pt``, fp16, about
1.7 MB; see checkpoints/MODEL_CARD.md for how it was trained and how good it
is) and are read with ``torch.load(weights_only=True)``: no network, no
pickle code execution.

This module is handed to students as a support file next to models.py: it
imports only torch and the models module.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

try:
    from .models import build_model
except ImportError:  # vendored as plain modules next to each other (problem sets)
    from models import build_model

CHECKPOINT_NAME = "digits_mlp.pt"
CHECKPOINT_ENV = "DIFFCOURSE_DIGITS_CHECKPOINT"


def checkpoint_path() -> Path:
    """Where the checkpoint is read from.

    In order: the file named by the environment variable
    DIFFCOURSE_DIGITS_CHECKPOINT; ``checkpoints/digits_mlp.pt`` inside the package
    (found with importlib.resources); for a vendored copy, ``checkpoints/`` or the
    folder next to this file.
    """
    override = os.environ.get(CHECKPOINT_ENV)
    if override:
        return Path(override)
    candidates = []
    if __package__:
        from importlib import resources

        try:
            candidates.append(
                Path(str(resources.files(__package__) / "checkpoints" / CHECKPOINT_NAME))
            )
        except (ModuleNotFoundError, TypeError):
            pass
    here = Path(__file__).resolve().parent
    candidates += [here / "checkpoints" / CHECKPOINT_NAME, here / CHECKPOINT_NAME]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return candidates[0]


def load_checkpoint_file(path) -> dict:
    """Read a checkpoint written by the course's trainer/script (weights only, on CPU)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"digits model checkpoint not found at {path}; set {CHECKPOINT_ENV} to its location"
        )
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("model_class", "model_config", "state_dict", "alphas_cumprod"):
        if key not in ckpt:
            raise ValueError(f"{path} is not a diffcourse model checkpoint (missing {key!r})")
    return ckpt


def load_model(path, device=None) -> torch.nn.Module:
    """Any model file written by ``Trainer.export`` (e.g. ``runs/NAME/model.pt`` of the CLI).

    Returns the network in eval mode, float32, without gradients, on ``device``
    (default CPU), with ``alphas_cumprod`` (float64), ``prediction_type``,
    ``schedule``, ``num_classes`` and ``null_label`` attached.
    """
    ckpt = load_checkpoint_file(path)
    model = build_model(ckpt["model_class"], dict(ckpt["model_config"]))
    state = {k: v.float() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()}
    model.load_state_dict(state)
    model.requires_grad_(False)
    model.eval()
    device = torch.device(device) if device is not None else torch.device("cpu")
    model.to(device)
    model.alphas_cumprod = ckpt["alphas_cumprod"].to(device=device, dtype=torch.float64)
    model.prediction_type = ckpt.get("prediction_type", "epsilon")
    model.schedule = ckpt.get("schedule", "cosine")
    model.null_label = model.num_classes
    return model


def load_digits_model(device=None, path=None) -> torch.nn.Module:
    """The pretrained digits model in eval mode, float32, on ``device`` (default CPU)."""
    return load_model(path if path is not None else checkpoint_path(), device)
