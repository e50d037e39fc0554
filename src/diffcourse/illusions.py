"""Visual anagrams (Geng et al. 2024): one image that reads as class a, and as class b
once a view (a flip, a rotation, a pixel permutation) is applied to it.

At every denoising step each view i transforms x_t, the model predicts the noise
of the transformed image with view i's label, the prediction is mapped back with
the inverse view, and the predictions are averaged:

    eps = mean_i V_i^{-1} eps_theta(V_i x_t, t, y_i).

This is sound because every view is orthogonal (a permutation of pixels): it maps
N(0, I) noise to N(0, I) noise, so V_i x_t is a valid noisy image at the same t.
Views act on images (B, C, H, W); rotations by 90 degrees need H == W.
"""

import torch

from diffcourse.guidance import cfg_prediction
from diffcourse.samplers import ddim_sample

__all__ = [
    "View",
    "Identity",
    "HFlip",
    "VFlip",
    "Rot90",
    "Rot180",
    "Rot270",
    "Permutation",
    "multiview_prediction",
    "anagram_sample",
]


def _check_image(x):
    if x.ndim != 4:
        raise ValueError(f"views act on images (B, C, H, W), got shape {tuple(x.shape)}")


class View:
    """An orthogonal transformation of images: ``apply`` and its exact ``inverse``."""

    def apply(self, x):
        raise NotImplementedError

    def inverse(self, x):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Identity(View):
    def apply(self, x):
        _check_image(x)
        return x

    def inverse(self, x):
        _check_image(x)
        return x


class HFlip(View):
    """Mirror left-right (its own inverse)."""

    def apply(self, x):
        _check_image(x)
        return x.flip(-1)

    def inverse(self, x):
        return self.apply(x)


class VFlip(View):
    """Mirror top-bottom (its own inverse)."""

    def apply(self, x):
        _check_image(x)
        return x.flip(-2)

    def inverse(self, x):
        return self.apply(x)


class _Rotation(View):
    quarter_turns = 0  # counter-clockwise

    def apply(self, x):
        _check_image(x)
        if self.quarter_turns % 2 and x.shape[-1] != x.shape[-2]:
            raise ValueError(f"a 90-degree rotation needs square images, got {tuple(x.shape)}")
        return torch.rot90(x, self.quarter_turns, dims=(-2, -1))

    def inverse(self, x):
        _check_image(x)
        return torch.rot90(x, -self.quarter_turns, dims=(-2, -1))


class Rot90(_Rotation):
    """Rotate 90 degrees counter-clockwise; the inverse turns back (clockwise)."""

    quarter_turns = 1


class Rot180(_Rotation):
    """Rotate 180 degrees (its own inverse)."""

    quarter_turns = 2


class Rot270(_Rotation):
    """Rotate 270 degrees counter-clockwise (90 clockwise)."""

    quarter_turns = 3


class Permutation(View):
    """Shuffle pixels: out[..., j] = x[..., perm[j]] over the H*W pixels (row-major).

    Every channel is shuffled alike; ``inverse`` gathers with argsort(perm). A jigsaw
    puzzle is such a permutation.
    """

    def __init__(self, perm):
        perm = torch.as_tensor(perm, dtype=torch.int64)
        if perm.ndim != 1 or not torch.equal(perm.sort().values, torch.arange(len(perm))):
            raise ValueError("perm must be a permutation of 0..H*W-1")
        self.perm = perm
        self.inv = torch.argsort(perm)

    def _gather(self, x, index):
        _check_image(x)
        B, C, H, W = x.shape
        if H * W != len(index):
            raise ValueError(f"perm has {len(index)} entries, the images have {H * W} pixels")
        return x.reshape(B, C, H * W)[..., index.to(x.device)].reshape(B, C, H, W)

    def apply(self, x):
        return self._gather(x, self.perm)

    def inverse(self, x):
        return self._gather(x, self.inv)

    def __repr__(self):
        return f"Permutation({self.perm.tolist()})"


def multiview_prediction(model, x_t, t, views, labels=None, guidance_scale=None, null_label=None):
    """eps = mean_i V_i^{-1} eps_theta(V_i x_t, t, y_i): the views' predictions, averaged.

    ``labels`` holds one entry per view (an int or a LongTensor (B,)), or is None for
    an unconditional model. With ``guidance_scale``, each view's prediction is
    classifier-free guided (null label ``null_label``, default ``model.num_classes``).
    """
    n, B = len(views), x_t.shape[0]
    if n == 0:
        raise ValueError("views must not be empty")
    t = torch.as_tensor(t, device=x_t.device)
    t = t.expand(B) if t.ndim == 0 else t
    xs = torch.cat([view.apply(x_t) for view in views])  # (n B, C, H, W)
    ts = t.repeat(n)  # (n B,)
    if labels is None:
        if guidance_scale is not None:
            raise ValueError("guidance_scale needs labels")
        out = model(xs, ts)
    else:
        if len(labels) != n:
            raise ValueError(f"labels must hold one entry per view ({n}), got {len(labels)}")
        ys = torch.cat(
            [torch.as_tensor(y, device=x_t.device).to(torch.int64).expand(B) for y in labels]
        )  # (n B,)
        if guidance_scale is None:
            out = model(xs, ts, labels=ys)
        else:
            if null_label is None:
                null_label = getattr(model, "num_classes", None)
                if null_label is None:
                    raise ValueError("null_label is required: the model has no num_classes")
            out = cfg_prediction(model, xs, ts, ys, guidance_scale, null_label)
    chunks = out.split(B)  # n tensors (B, C, H, W)
    return torch.stack([view.inverse(eps) for view, eps in zip(views, chunks, strict=True)]).mean(0)


def anagram_sample(
    model,
    shape,
    alphas_cumprod,
    views,
    labels,
    num_steps=50,
    generator=None,
    guidance_scale=None,
    null_label=None,
    eta=0.0,
    spacing="leading",
    clip_sample=False,
    clip_range=1.0,
    prediction_type="epsilon",
    x_T=None,
    device=None,
    dtype=torch.float32,
    return_trajectory=False,
):
    """Sample a visual anagram: DDIM driven by ``multiview_prediction``.

    Example: views (Identity(), Rot180()), labels (1, 7): a 1 that reads as 7 upside down.
    """

    def predict(x, t):
        return multiview_prediction(model, x, t, views, labels, guidance_scale, null_label)

    if device is None and isinstance(model, torch.nn.Module):
        params = list(model.parameters())
        device = params[0].device if params else None
    return ddim_sample(
        None,
        shape,
        alphas_cumprod,
        num_steps,
        generator,
        eta=eta,
        spacing=spacing,
        clip_sample=clip_sample,
        clip_range=clip_range,
        prediction_type=prediction_type,
        predict=predict,
        x_T=x_T,
        device=device,
        dtype=dtype,
        return_trajectory=return_trajectory,
    )
