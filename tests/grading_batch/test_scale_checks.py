"""Scale checks: declared per problem set, added to the unpacked tests in the scale profile only.

The mechanism is tested on fx1 (seconds a grading); the real check of ps1 q10 on the
course library's sampler and the bug catalog (tests/assignments/ps1_variants/scale_bugs.py).
"""

from __future__ import annotations

import ast
import doctest
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from diffcourse_staff.course import REPO_ROOT
from diffcourse_staff.grading_batch import scale_checks
from diffcourse_staff.grading_batch.batch import unpack_autograder
from diffcourse_staff.grading_batch.outcome import source_questions

PS1 = scale_checks.staff_folder("ps1")

# a check on fx1's `scale(x, a)` that only a large input reveals (the variant below is wrong
# from 1000 elements on, which the notebook's own tests never reach)
FX1_CHECK = """\
import numpy as np

_x = np.arange(_P["n"], dtype=float)


def _expected(x, a):
    return x * a


_out = scale(_x, 2.0)
assert np.allclose(_out, _expected(_x, 2.0)), f"scale is wrong on {_P['n']} elements"
"""
FX1_YAML = """\
q1_large:
  question: q1
  points: 1
  code: checks/q1_large.py
  cpu: {n: 10}
  scale: {n: 5000}
"""
WRONG_AT_SCALE = "if len(x) >= 1000:\n        return np.asarray(x, dtype=float) * a + 1e-3\n    "


@pytest.fixture
def fx1_checks(tmp_path):
    folder = tmp_path / "staff"
    (folder / "checks").mkdir(parents=True)
    (folder / "scale_checks.yml").write_text(FX1_YAML)
    (folder / "checks" / "q1_large.py").write_text(FX1_CHECK)
    return folder


def test_as_doctest_keeps_every_statement():
    code = (PS1 / "scale_checks" / "q10_exact_law.py").read_text()
    case = scale_checks.as_doctest(code)
    examples = doctest.DocTestParser().get_examples(case)
    assert all(e.want == "" for e in examples)  # nothing printed, nothing expected
    rebuilt = ast.dump(ast.parse("".join(e.source for e in examples)))
    assert rebuilt == ast.dump(ast.parse(code))


def test_bad_declarations_name_the_file_and_the_check(tmp_path, fx1_checks):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "scale_checks.yml").write_text("q1_x:\n  question: q1\n  points: -1\n  code: a.py\n")
    with pytest.raises(scale_checks.ScaleCheckError, match=r"scale_checks.yml: q1_x: points.*cpu"):
        scale_checks.load(bad)
    source = tmp_path / "source" / "tests"
    source.mkdir(parents=True)
    with pytest.raises(scale_checks.ScaleCheckError, match="q1_large: the autograder has no"):
        scale_checks.add_to_source(source.parent, fx1_checks, "scale")


def test_scale_profile_adds_a_hidden_case_and_keeps_the_total(fx1, fx1_checks, tmp_path):
    zip_path, _, _ = fx1
    cpu = unpack_autograder(zip_path, tmp_path / "cpu")
    scale = unpack_autograder(zip_path, tmp_path / "scale")
    before = (cpu / "tests" / "q1.py").read_text()
    assert scale_checks.add_to_source(cpu, fx1_checks, "cpu") == []
    assert (cpu / "tests" / "q1.py").read_text() == before  # cpu: exactly Gradescope's tests
    assert scale_checks.add_to_source(scale, fx1_checks, "scale") == ["q1_large"]
    assert source_questions(scale) == source_questions(cpu)  # the question's total is kept
    test = ast.literal_eval((scale / "tests" / "q1.py").read_text().split("test = ", 1)[1])
    added = test["suites"][-1]["cases"][-1]
    assert added["hidden"] and added["points"] == 1
    assert ">>> _P = {'n': 5000}" in added["code"]
    record = json.loads((scale / scale_checks.RECORD).read_text())
    assert record == {"profile": "scale", "added": [{"name": "q1_large", "question": "q1",
                                                     "points": 1.0}]}  # fmt: skip
    assert scale_checks.digest(fx1_checks, "scale") != scale_checks.digest(fx1_checks, "cpu")


def _grade(source: Path, notebook: Path, profile: str, out: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(source))
    cmd = [sys.executable, "-m", "diffcourse_grading.run", "--source", str(source)]
    cmd += ["--submission", str(notebook), "--results", str(out), "--profile", profile]
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
    results = json.loads(out.read_text())
    return {t["name"]: t["score"] for t in results["tests"] if t.get("max_score")}


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="the runner drops student code to nobody")
def test_added_check_runs_in_the_grader_against_the_submission(fx1, fx1_checks, tmp_path):
    zip_path, solution, _ = fx1
    nb = json.loads(solution.read_text())
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if "scaled_values = " in src and cell["cell_type"] == "code":
            cell["source"] = src.replace("scaled_values = ", WRONG_AT_SCALE + "scaled_values = ")
    wrong = tmp_path / "wrong_at_scale.ipynb"
    wrong.write_text(json.dumps(nb))
    cpu = unpack_autograder(zip_path, tmp_path / "cpu")
    scale = unpack_autograder(zip_path, tmp_path / "scale")
    scale_checks.add_to_source(scale, fx1_checks, "scale")
    assert _grade(cpu, wrong, "cpu", tmp_path / "a.json") == {"q1": 4.0, "q2": 4.0}
    assert _grade(scale, solution, "scale", tmp_path / "b.json") == {"q1": 4.0, "q2": 4.0}
    assert _grade(scale, wrong, "scale", tmp_path / "c.json") == {"q1": 3.0, "q2": 4.0}
    results = json.loads((tmp_path / "c.json").read_text())
    q1 = next(t for t in results["tests"] if t["name"] == "q1")
    assert "scale is wrong on 5000 elements" in q1["output"]


def _bugs(assignment: str):
    path = REPO_ROOT / "tests" / "assignments" / f"{assignment}_variants" / "scale_bugs.py"
    spec = importlib.util.spec_from_file_location(f"{assignment}_scale_bugs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECKS = {"ps1": "q10_exact_law", "ps2": "q11b_exact_law"}
BUGS = [(a, b) for a in CHECKS for b in sorted(_bugs(a).SCALE_BUGS)]


def _check(assignment: str):
    folder = scale_checks.staff_folder(assignment)
    return folder, next(c for c in scale_checks.load(folder) if c.name == CHECKS[assignment])


def _run_check(assignment: str, answer, settings: dict) -> dict:
    folder, check = _check(assignment)
    ns: dict = {"torch": torch, "_P": settings}
    if isinstance(answer, str):
        exec(answer, ns)
    else:
        ns[_bugs(assignment).FUNCTION] = answer
    exec(check.source(folder), ns)  # raises AssertionError with the check's message on a bug
    return ns


@pytest.mark.parametrize("assignment", sorted(CHECKS))
def test_exact_law_matches_the_library_sampler(assignment):
    """The closed-form law of each check is the law of the library's samples (an independent
    oracle: the library's samplers are tested against diffusers)."""
    import diffcourse.samplers

    torch.set_num_threads(1)
    sampler = getattr(diffcourse.samplers, _bugs(assignment).FUNCTION)
    ns = _run_check(assignment, sampler, {"n": 20000, "z": 5.0, "seed": 7})
    assert ns["_z_mean"] < 5 and ns["_z_sd"] < 5
    # and it is the sampler's law, not the data's: a check against the data's law would fail
    # the reference (ps1's 250 DDPM steps: spread 2-3% off; ps2's 50 DDIM steps: 11%)
    off = (ns["_v"].sqrt() / ns["_s2"].sqrt() - 1).abs().max().item()
    assert off > 0.01


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "bug"), BUGS)
def test_bugs_pass_gradescope_size_and_fail_the_scale_check(assignment, bug):
    """Each catalogued bug passes the check at the cpu size and fails it at the scale size;
    ps1's bugs also pass the notebook's own quality test of q10 (1000 samples: mean within
    0.2, spread within 15% of the data's)."""
    torch.set_num_threads(1)
    source = _bugs(assignment).SCALE_BUGS[bug]
    _, check = _check(assignment)
    ns = _run_check(assignment, source, check.cpu)
    if assignment == "ps1":
        x, mu, s2 = ns["_x"], ns["_mu"], ns["_s2"]
        assert (x.mean(0) - mu).abs().max().item() < 0.2
        assert (x.std(0) / s2.sqrt() - 1).abs().max().item() < 0.15
    with pytest.raises(AssertionError, match="standard errors"):
        _run_check(assignment, source, check.scale)


class _RecordingEngine:
    """Stands in for a container: records the tests each grading would see, grades nothing."""

    def __init__(self):
        self.seen: list[str] = []

    def describe(self) -> str:
        return "recording engine"

    def run(self, job):
        from diffcourse_staff.grading_batch.engines import RunResult

        self.seen.append((job.source / "tests" / "q1.py").read_text())
        job.out.mkdir(parents=True, exist_ok=True)
        (job.out / "results.json").write_text(json.dumps({"tests": []}))
        return RunResult(0, False, 0.1)


def test_grade_all_adds_the_checks_in_the_scale_profile_only(fx1, fx1_checks, tmp_path):
    from diffcourse_staff.grading_batch.batch import BatchConfig, grade_all
    from diffcourse_staff.grading_batch.journal import JournalError

    zip_path, solution, _ = fx1
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a.ipynb").write_text(solution.read_text())
    out = tmp_path / "out"

    def run(profile: str, restart: bool = False) -> str:
        engine = _RecordingEngine()
        cfg = BatchConfig(zip_path, subs, out, workers=1, profile=profile, restart=restart,
                          progress=False, scale_checks=fx1_checks)  # fmt: skip
        grade_all(engine, cfg, log=lambda *a: None)
        return engine.seen[0]

    assert "_P = " not in run("cpu")
    with pytest.raises(JournalError, match="another autograder"):  # never mixed with cpu grades
        run("scale")
    assert ">>> _P = {'n': 5000}" in run("scale", restart=True)
