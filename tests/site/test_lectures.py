"""Every lecture of the course file has real notes: its title, typeset derivations, a
figure made by the library, exercises and references to the original papers."""

from __future__ import annotations

import re

import pytest

from diffcourse_staff.site.figures import FIGURES

FIGURE_NAMES = {f.name for f in FIGURES}


@pytest.fixture(scope="module")
def notes(course):
    return {lec.id: (lec, (course.path.parent / lec.notes).read_text()) for lec in course.lectures}


def test_every_lecture_has_substantial_notes(notes):
    for lec, text in notes.values():
        first = text.splitlines()[0]
        assert first == f"# {lec.title}", f"{lec.notes}: title {first!r} is not {lec.title!r}"
        words = len(re.findall(r"[A-Za-z]+", text))
        assert words > 1200, f"{lec.notes}: only {words} words"
        assert text.count("$$") >= 4 or lec.id == "L11", f"{lec.notes}: too few displayed equations"
        figures = set(re.findall(r"\.\./figures/([a-z0-9-]+\.(?:png|gif))", text))
        assert figures and figures <= FIGURE_NAMES, f"{lec.notes}: figures {figures}"
        for section in ("## Exercises", "## References"):
            assert section in text, f"{lec.notes}: no {section!r} section"
        exercises = text.split("## Exercises", 1)[1].split("## References", 1)[0]
        assert len(re.findall(r"^\d+\. ", exercises, re.M)) >= 4, f"{lec.notes}: few exercises"
        alts = re.findall(r"!\[([^\]]*)\]", text)
        assert all(len(a) > 30 for a in alts), f"{lec.notes}: an image without a real alt text"


def test_the_original_papers_are_cited(notes):
    everything = "\n".join(text for _, text in notes.values())
    for needle in [
        "Sohl-Dickstein", "Denoising Diffusion Probabilistic Models", "Song, S. Ermon",
        "Stochastic Differential Equations", "Denoising Diffusion Implicit Models",
        "Improved Denoising Diffusion", "Elucidating the Design Space",
        "Diffusion Models Beat GANs",
        "Classifier-Free Diffusion Guidance", "RePaint", "Diffusion Posterior Sampling",
        "DreamFusion", "Visual Anagrams", "Latent Diffusion Models",
        "Scalable Diffusion Models with Transformers", "Progressive Distillation",
        "Consistency Models", "Tweedie's Formula and Selection Bias", "Robbins",
        "Connection Between Score Matching and Denoising Autoencoders", "Hyvärinen",
        "Reverse-Time Diffusion Equation Models",
    ]:  # fmt: skip
        assert needle in everything, f"no lecture cites {needle!r}"
