"""Sampling helpers that figures of several lectures share."""

from __future__ import annotations

import torch

from diffcourse_staff.site.gallery.style import gen


def mixture_predict(mixture, alphas_cumprod):
    """Exact epsilon-prediction for Gaussian-mixture data: eps = -sqrt(1 - abar_t) score."""
    from diffcourse.forward import score_to_eps
    from diffcourse.scores import gmm_noised_score

    def predict(x_t, t):  # x_t (B, D), t (B,)
        abar_t = alphas_cumprod[t]  # (B,)
        score = gmm_noised_score(x_t, abar_t, mixture)  # (B, D)
        return score_to_eps(score, x_t, t, alphas_cumprod)

    return predict


def digits_sample(model, labels, seed, num_steps=50, guidance_scale=2.0, x_T=None):
    from diffcourse.samplers import ddim_sample

    return ddim_sample(
        model,
        (labels.shape[0], 1, 8, 8),
        model.alphas_cumprod,
        num_steps,
        gen(seed),
        labels=labels,
        guidance_scale=guidance_scale,
        clip_sample=True,
        x_T=x_T,
    )


def anagrams(model, pairs, candidates: int, seed: int):
    """Digits that read as a upright and b after a half turn, picked by the judge."""
    from diffcourse.illusions import Identity, Rot180, multiview_prediction
    from diffcourse.judge import DigitsJudge
    from diffcourse.samplers import ddim_sample

    judge = DigitsJudge()
    views = [Identity(), Rot180()]
    chosen = []
    for k, (a, b) in enumerate(pairs):
        la = torch.full((candidates,), a)
        lb = torch.full((candidates,), b)

        def predict(x_t, t, la=la, lb=lb):
            return multiview_prediction(model, x_t, t, views, [la, lb], 2.0, model.null_label)

        x = ddim_sample(
            None,
            (candidates, 1, 8, 8),
            model.alphas_cumprod,
            50,
            gen(seed + k),
            predict=predict,
            clip_sample=True,
        )  # (candidates, 1, 8, 8)
        up = judge.predict(x)
        down = judge.predict(torch.rot90(x, 2, dims=(-2, -1)))
        good = ((up == a) & (down == b)).nonzero().flatten()
        chosen.append(x[good[0]] if len(good) else x[0])
    return torch.stack(chosen)  # (len(pairs), 1, 8, 8)
