"""Public checks stop at the first failing line and print one short message (issue 10)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import otter
import pytest
from otter.nbmeta_config import NBMetadataConfig
from otter.test_files import create_test_file

from diffcourse_staff.release import ReleaseError
from diffcourse_staff.release.public_tests import (
    convert_folder,
    exception_format,
    notebook_names,
)

# An OK-format file as Otter writes it: a public case whose first call fails and whose
# later lines use its result (the doctest used to print one traceback per later line).
OK_TEST = {
    "name": "q4",
    "points": 8,
    "suites": [
        {
            "cases": [
                {
                    "code": ">>> import math\n"
                    ">>> _out = q_sample([1.0, 2.0], 0.5)\n"
                    ">>> assert len(_out) == 2, 'x_t must have the shape of x0'\n"
                    ">>> assert all(math.isfinite(v) for v in _out), 'x_t must be finite'\n"
                    ">>> assert _out[0] < 1.0, 'x_t must shrink x0 towards 0'\n",
                    "hidden": False,
                    "locked": False,
                },
                {
                    "code": ">>> _xs = [q_sample([v], SCALE)[0] for v in range(3)]\n"
                    ">>> assert sorted(_xs) == _xs, 'q_sample must keep the order'\n",
                    "hidden": False,
                    "locked": False,
                },
            ],
            "scored": True,
            "setup": "",
            "teardown": "",
            "type": "doctest",
        }
    ],
}


def _write(folder: Path, test: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{test['name']}.py"
    path.write_text(f"OK_FORMAT = True\n\ntest = {test!r}\n")
    return path


def _check(path: Path, env: dict) -> str:
    """What `grader.check` shows for this file in a kernel holding `env`."""
    test = create_test_file(str(path), NBMetadataConfig())
    test.run(env)
    return repr(test)


def _not_implemented(x0, abar):
    raise NotImplementedError("q4: write q_sample")


def test_notebook_names_are_what_a_case_reads_but_never_binds():
    body = (
        "import math\n"
        "_out = q_sample([1.0], SCALE)\n"
        "_f = lambda v: helper(v) + len(_out)\n"
        "assert all(math.isfinite(other(v)) for v in _out), 'finite'\n"
    )
    assert notebook_names(body) == ["SCALE", "helper", "other", "q_sample"]


def test_a_failing_public_case_prints_one_short_message(tmp_path):
    ok = _check(_write(tmp_path / "ok", OK_TEST), {"q_sample": _not_implemented, "SCALE": 0.5})
    assert ok.count("Traceback") >= 4  # the problem: the doctest cascades
    path = _write(tmp_path / "new", OK_TEST)
    assert convert_folder("ps9", path.parent) == 1
    out = _check(path, {"q_sample": _not_implemented, "SCALE": 0.5})
    assert "Traceback" not in out and len(out.splitlines()) <= 12, out
    # Each case names its failing line and the error's own message, once.
    assert out.count("NotImplementedError: q4: write q_sample") == 2
    assert "_out = q_sample([1.0, 2.0], 0.5)" in out


def test_the_first_failing_assert_is_the_message(tmp_path):
    path = _write(tmp_path, OK_TEST)
    convert_folder("ps9", tmp_path)

    def grows(x0, abar):
        return [v * 2 for v in x0]

    out = _check(path, {"q_sample": grows, "SCALE": 0.5})
    assert "AssertionError: x_t must shrink x0 towards 0" in out
    assert "must keep the order" not in out  # the second case passes
    assert "q4 - 2 result:\n        ✅ Test case passed" in out


def test_right_answer_passes_and_a_missing_name_is_named(tmp_path):
    path = _write(tmp_path, OK_TEST)
    convert_folder("ps9", tmp_path)
    assert "All test cases passed" in _check(
        path, {"q_sample": lambda x0, a: [a * v for v in x0], "SCALE": 0.5}
    )
    out = _check(path, {"SCALE": 0.5})
    assert "NameError: name 'q_sample' is not defined: run the cell that defines it" in out


def test_hidden_cases_never_reach_a_student_file(tmp_path):
    hidden = json.loads(json.dumps(OK_TEST))
    hidden["suites"][0]["cases"][1]["hidden"] = True
    with pytest.raises(ValueError, match="hidden case"):
        exception_format(hidden)
    _write(tmp_path, hidden)
    with pytest.raises(ReleaseError, match="q4.py: cannot rewrite"):
        convert_folder("ps9", tmp_path)


def test_built_student_check_with_a_wrong_answer(good_build, tmp_path, monkeypatch):
    """The handout's own check, run by Otter as in the student's kernel."""
    fc, _ = good_build
    folder = tmp_path / "fx1"
    shutil.copytree(fc.dist / "fx1" / "student", folder)
    assert "OK_FORMAT = False" in (folder / "tests" / "q1.py").read_text()
    monkeypatch.chdir(folder)
    grader = otter.Notebook("fx1.ipynb")
    wrong = {"scale": lambda x, a: [a * v for v in x]}  # a list: no .shape
    out = repr(grader.check("q1", global_env=wrong))
    assert "Traceback" not in out and len(out.splitlines()) <= 6, out
    # Otter strips quotes around the message: "list' object has no attribute 'shape".
    assert "AttributeError: " in out and "object has no attribute 'shape" in out
    assert "assert scale(np.ones(2), 2.0).shape == (2,)" in out  # the failing line
    assert "All test cases passed" in repr(
        grader.check("q1", global_env={"scale": lambda x, a: __import__("numpy").asarray(x) * a})
    )
