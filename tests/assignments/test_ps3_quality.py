"""Problem set 3's sample-quality checks on the pretrained digits model.

The hidden test cells that load the real model (guided samples, anagrams, score
distillation, judged by the digits classifier) must pass with the reference
solutions and fail with answers that are wrong in a way only a sampler shows.
Their batch size comes from PS3_QUALITY_BATCH (default 32), as on Gradescope;
q1b's reads its batch and thresholds from the grading profile (GRADING_PROFILE:
cpu by default, scale on a GPU grader; the profiles in q1b's quality cell), and the
scale profile must catch the subtle guidance bugs of ps3_variants/scale_bugs.py
that the cpu profile lets through. Skipped when the checkpoint is not there.
"""

from __future__ import annotations

import importlib

import pytest
import torch
from notebook_harness import parse, run_question
from ps3_variants.scale_bugs import SCALE_BUGS

NB = parse("ps3")
WITH_QUALITY = [q for q, Q in NB.questions.items() if any(c.quality for c in Q.tests)]

# Bugs whose quality check must fail too (each also fails a step-level hidden test).
QUALITY_BUGS = [
    ("q1b", "sign_flipped"),
    ("q3b", "first_labels_for_all_views"),
    ("q5b", "sign_flipped"),
]


@pytest.fixture(scope="module", autouse=True)
def pretrained_model():
    try:
        from diffcourse.pretrained import load_digits_model

        model = load_digits_model()
    except (FileNotFoundError, ImportError) as exc:
        pytest.skip(f"pretrained digits model not available: {exc}")
    # One thread, as on Gradescope; small batched calls only lose to thread contention.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield model
    torch.set_num_threads(threads)


def _quality_results(question, source=None):
    results = run_question(NB, question, source, quality=True)
    return [(cell, err) for cell, err in results if cell.quality]


def test_quality_checks_exist():
    assert set(WITH_QUALITY) >= {"q1b", "q3b", "q5b"}, WITH_QUALITY


@pytest.mark.parametrize("question", WITH_QUALITY)
def test_reference_passes_quality_checks(question):
    results = _quality_results(question)
    failures = [err for _, err in results if err]
    assert not failures, f"the reference fails the quality check of {question}: {failures}"


@pytest.mark.slow
def test_reference_passes_the_scale_profile(monkeypatch):
    monkeypatch.setenv("GRADING_PROFILE", "scale")
    failures = [err for _, err in _quality_results("q1b") if err]
    assert not failures, f"the reference fails q1b's scale-profile check: {failures}"


@pytest.mark.slow
@pytest.mark.parametrize("bug", sorted(SCALE_BUGS))
def test_scale_profile_catches_what_the_cpu_profile_misses(bug, monkeypatch):
    monkeypatch.setenv("GRADING_PROFILE", "cpu")
    cpu = _quality_results("q1b", SCALE_BUGS[bug])
    assert cpu and not any(err for _, err in cpu), f"the cpu profile already fails {bug}: {cpu}"
    monkeypatch.setenv("GRADING_PROFILE", "scale")
    scale = _quality_results("q1b", SCALE_BUGS[bug])
    assert scale and all(err for _, err in scale), f"the scale profile lets {bug} through"
    assert all("vary by" in err for _, err in scale), scale  # caught by the spread, as designed


@pytest.mark.parametrize("question,bug", QUALITY_BUGS)
def test_bug_fails_quality_check(question, bug):
    source = importlib.import_module(f"ps3_variants.{question}").BUGS[bug]
    results = _quality_results(question, source)
    assert results and all(err for _, err in results), f"{question} {bug} passes its quality check"
