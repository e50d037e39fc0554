"""Numbers stated in the lecture notes are recomputed here, so that a changed model or a
typo in the notes fails a test instead of misleading students."""

from __future__ import annotations

import math

import pytest

from diffcourse_staff.course import REPO_ROOT


def _notes(name: str) -> str:
    # The notes' own line breaks are irrelevant to a stated number.
    return " ".join((REPO_ROOT / "lectures" / name).read_text().split())


def test_lora_sizes_in_lecture_15():
    from diffcourse.adapters import add_lora
    from diffcourse.pretrained import load_digits_model

    text = _notes("15-latent-conditioning.md")
    model = load_digits_model()
    total = sum(p.numel() for p in model.parameters())
    add_lora(model, rank=4)
    lora = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert f"({total:,} parameters)" in text
    assert f"leaves {lora:,} trainable numbers, {lora / total:.1%} of the model" in text
    d, r = 1024, 4
    assert f"that is {2 * d * r:,} numbers instead of {d * d:,} ({2 * d * r / d**2:.2%})" in text
    pixels, latent = 512 * 512 * 3, 64 * 64 * 4
    assert f"{pixels:,}".replace(",", "{,}") in text and f"{latent:,}".replace(",", "{,}") in text
    assert f"numbers, {pixels // latent} times fewer" in text


def test_watermark_false_positive_rate_in_lecture_17():
    text = _notes("17-responsible-use.md")
    fpr = sum(math.comb(48, i) for i in range(40, 49)) / 2**48
    mantissa, exponent = f"{fpr:.1e}".split("e")
    assert f"about \\({mantissa} \\times 10^{{{int(exponent)}}}\\) for \\(\\tau = 40\\)" in text


def test_one_euler_step_lands_on_the_mean_in_lecture_12():
    import torch

    from diffcourse.flow import flow_sample, gmm_velocity
    from diffcourse_staff.site.gallery.lectures_12_13 import three_modes

    text = _notes("12-flow-matching.md")
    assert "a single Euler step of size 1 lands **every** sample on the data mean" in text
    mixture = three_modes()
    z = torch.randn((64, 2), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = flow_sample(lambda x, t: gmm_velocity(x, t, mixture), z, 1)
    mean = (mixture.weights[:, None] * mixture.means).sum(0)
    assert torch.allclose(x, mean.expand_as(x), atol=1e-12)


def test_the_mean_term_bias_of_lecture_16():
    import torch

    text = _notes("16-evaluation.md")
    assert "which is \\(2d/n\\) for unit-variance features" in text
    d, n, reps = 8, 50, 4000
    g = torch.Generator().manual_seed(1)
    a = torch.randn((reps, n, d), generator=g, dtype=torch.float64).mean(1)
    b = torch.randn((reps, n, d), generator=g, dtype=torch.float64).mean(1)
    measured = (a - b).pow(2).sum(1).mean().item()
    assert measured == pytest.approx(2 * d / n, rel=0.05)  # standard error about 0.8%


def test_the_audit_findings_of_lecture_17():
    """The l17-audit figure's samples: zeros too rare and eights too common, beyond the 95%
    interval; every class read as asked at least 98% of the time (the same seeds)."""
    import torch

    from diffcourse.judge import DigitsJudge
    from diffcourse.pretrained import load_digits_model
    from diffcourse_staff.site.gallery.common import digits_sample

    text = _notes("17-responsible-use.md")
    assert "zeros are generated too rarely and eights too often" in text
    model, judge, n = load_digits_model(), DigitsJudge(), 1000
    with torch.no_grad():
        free = digits_sample(model, torch.full((n,), model.null_label), seed=100,
                              guidance_scale=None)  # fmt: skip
        asked = torch.arange(10).repeat_interleave(50)
        guided = digits_sample(model, asked, seed=101, guidance_scale=1.0)
    share = torch.bincount(judge.predict(free), minlength=10).double() / n
    half = 1.96 * (share * (1 - share) / n).sqrt()
    assert share[0] + half[0] < 0.1 and share[8] - half[8] > 0.1
    ok = (judge.predict(guided) == asked).double().reshape(10, 50).mean(1)
    assert ok.min() >= 0.98
