"""Problem set 4's sampling check (hidden, in q3a) and its grading profiles.

The check integrates the exact velocity of the set's 2D mixture with the student's Heun steps
and measures the share of samples in each mode and their spread within a mode. Its batch and
thresholds come from the grading profile (GRADING_PROFILE: cpu on Gradescope, scale on the
course's batch grader, the profiles written in the cell). The reference passes both; the
scale profile must catch the subtle integrator bugs of ps4_variants/scale_bugs.py that the cpu
profile lets through; gross bugs fail both.
"""

from __future__ import annotations

import importlib

import pytest
from notebook_harness import parse, run_question
from ps4_variants.scale_bugs import SCALE_BUGS

NB = parse("ps4")
MARK = "GRADING_PROFILE"


def _sampling(source=None):
    results = [(cell, err) for cell, err in run_question(NB, "q3a", source) if MARK in cell.source]
    assert len(results) == 1, "q3a should hold exactly one profile-sized sampling check"
    return results[0][1]


@pytest.mark.parametrize("profile", ["cpu", "scale"])
def test_reference_passes_both_profiles(profile, monkeypatch):
    monkeypatch.setenv("GRADING_PROFILE", profile)
    assert _sampling() is None


@pytest.mark.parametrize("bug", sorted(SCALE_BUGS))
def test_scale_profile_catches_what_the_cpu_profile_misses(bug, monkeypatch):
    monkeypatch.setenv("GRADING_PROFILE", "cpu")
    assert _sampling(SCALE_BUGS[bug]) is None, f"the cpu profile already fails {bug}"
    monkeypatch.setenv("GRADING_PROFILE", "scale")
    err = _sampling(SCALE_BUGS[bug])
    assert err and ("spread" in err or "share" in err), f"the scale profile lets {bug} through"


@pytest.mark.parametrize("bug", ["heun_second_call_at_t", "heun_not_averaged", "step_sign_flipped"])
def test_gross_bugs_fail_the_cpu_profile(bug, monkeypatch):
    monkeypatch.setenv("GRADING_PROFILE", "cpu")
    assert _sampling(importlib.import_module("ps4_variants.q3a").BUGS[bug]) is not None
