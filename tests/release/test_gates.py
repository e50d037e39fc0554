"""The release gates on fixture assignments: the good one passes, each broken one fails
with a message naming the assignment and the question."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import time
import zipfile

import pytest

from diffcourse_staff.course import Assignment
from diffcourse_staff.release import ReleaseError, check_site, grade_submission
from diffcourse_staff.release.gates import GATES, check_environment, check_runner, gate_named
from tests.release.conftest import REPO, cell_index, edit_notebook, new_cell, replace_in_cell

SOLUTION_LINE = "scaled_values = np.asarray(x, dtype=float) * a"


# -- the good fixture -------------------------------------------------------------------


def test_good_fixture_passes_every_gate(good_build):
    fc, result = good_build
    assert result.rebuilt
    assert result.gates_run == ["environment", "runner", "leaks", "reference", "blank"]
    d = fc.dist / "fx1"
    shipped = ["data.txt", "fx1.ipynb", "requirements-colab.txt", "requirements.txt"]
    public_tests = ["tests/q1.py", "tests/q2.py"]  # Otter on Colab reads tests from files
    student = d / "student"
    assert sorted(p.relative_to(student).as_posix() for p in student.rglob("*.*")) == sorted(
        shipped + public_tests
    )
    with zipfile.ZipFile(d / "fx1-student.zip") as zf:
        assert sorted(zf.namelist()) == sorted(f"fx1/{n}" for n in shipped + public_tests)
        for name in public_tests:  # in Otter's exception format (release/public_tests.py)
            assert b"hidden=False" in zf.read(f"fx1/{name}")
            assert b"hidden=True" not in zf.read(f"fx1/{name}")
    assert not (d / "GATES-FAILED.txt").exists()
    assert not list(fc.dist.rglob("*autograder_*"))  # Otter's timestamped zip stays in build/
    assert list((fc.build / "fx1" / "otter" / "autograder").glob("fx1-autograder_*.zip"))


def test_gates_are_declared_by_name_with_their_letters_as_aliases(good_build):
    fc, _ = good_build
    assert [(g.name, g.alias) for g in GATES] == [
        ("environment", "d"),
        ("runner", "e"),
        ("leaks", "c"),
        ("reference", "a"),
        ("blank", "b"),
    ]
    assert gate_named("c") is gate_named("leaks")
    with pytest.raises(KeyError, match="the gates are environment \\(d\\), runner"):
        gate_named("f")
    logged = [line for line in fc.logs if " gate " in line]
    assert logged[0] == "fx1: gate environment ok (CPU torch pinned in the zip's environment)"
    assert [line.split()[2] for line in logged] == [g.name for g in GATES]
    stamps = json.loads((fc.build / "fx1" / "stamps.json").read_text())
    assert sorted(stamps["gates"]) == sorted(g.name for g in GATES)


def test_lint_runs_once_per_build_and_not_at_all_when_nothing_is_pending(
    fixture_course, monkeypatch
):
    from diffcourse_staff.release import gates, lint

    calls = []
    real = lint.lint_notebook
    monkeypatch.setattr(lint, "lint_notebook", lambda *a: calls.append(a) or real(*a))
    # the gates that read the linted notebook, without the two gradings
    graded = ("reference", "blank")
    monkeypatch.setattr(gates, "GATES", tuple(g for g in GATES if g.name not in graded))
    first = fixture_course.build_one("fx1")
    assert first.rebuilt and first.gates_run == ["environment", "runner", "leaks"]
    assert len(calls) == 1  # the build and the leaks gate share one lint
    fixture_course.build_one("fx1", gates=False)
    assert len(calls) == 1  # up to date: nothing to lint
    (fixture_course.build / "fx1" / "stamps.json").write_text(
        json.dumps(
            {**json.loads((fixture_course.build / "fx1" / "stamps.json").read_text()), "gates": {}}
        )
    )
    again = fixture_course.build_one("fx1")
    assert not again.rebuilt and again.gates_run == ["environment", "runner", "leaks"]
    assert len(calls) == 2  # built before, gates pending: linted once, for the leaks gate


def test_grading_report_has_the_measured_figures(good_build):
    fc, _ = good_build
    report = json.loads((fc.dist / "fx1" / "grading-report.json").read_text())
    ref = report["reference"]
    assert ref["total"] == ref["possible"] == 8
    assert ref["questions"] == {
        "q1": {"score": 4.0, "possible": 4.0},
        "q2": {"score": 4.0, "possible": 4.0},
    }
    assert 0 < ref["peak_rss_mb"] < 2000 and 0 < ref["cpu_s"] < 120
    # anonymous memory is part of the resident figure, and a real part of it
    assert 10 < ref["peak_anon_mb"] < ref["peak_rss_mb"]
    assert report["gradescope"]["memory_mb"] >= 768 and report["cell_timeout_s"] == 3


def test_student_notebook_is_clean(good_build):
    fc, _ = good_build
    nb = json.loads((fc.dist / "fx1" / "student" / "fx1.ipynb").read_text())
    text = json.dumps(nb)
    assert SOLUTION_LINE not in text and "'hidden': True" not in text
    assert "multiplied by a" not in text  # a hidden test's message
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    assert nb["metadata"]["otter"]["assignment_name"] == "fx1"
    reqs = (fc.dist / "fx1" / "student" / "requirements.txt").read_text()
    assert "-r requirements-colab.txt" in reqs and "jupyterlab==" in reqs and "ipykernel==" in reqs
    colab = (fc.dist / "fx1" / "student" / "requirements-colab.txt").read_text()
    assert "torch==2.13.0\n" in colab and "otter-grader==7.0.0" in colab
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in colab


def test_autograder_zip_carries_runner_reference_tests_and_cpu_torch(good_build):
    fc, _ = good_build
    with zipfile.ZipFile(fc.dist / "fx1" / "fx1-autograder.zip") as zf:
        names = set(zf.namelist())
        env = zf.read("environment.yml").decode()
        config = json.loads(zf.read("otter_config.json"))
        runner = json.loads(zf.read("grading_config.json"))
        entry = zf.read("run_autograder").decode()
        questions = json.loads(zf.read("reference/questions.json"))
        reference = zf.read("reference/solutions.py").decode()
    assert {"diffcourse_grading/run.py", "tests/q1.py", "tests/q2.py", "files/data.txt"} <= names
    assert not any(n.startswith("files/reference") for n in names)
    assert "torch==2.13.0+cpu" in env and "download.pytorch.org/whl/cpu" in env
    assert config["show_stdout"] is False and config["plugins"] == []
    assert config["show_hidden"] is True  # hidden results shown once grades are published
    assert runner["questions"] == ["q1", "q2"] and runner["limits"]["cell_timeout"] == 3
    assert "python -m diffcourse_grading.run --source /autograder/source" in entry
    assert set(questions) == {"q1", "q2"} and SOLUTION_LINE in reference


def test_solutions_keep_answers_but_no_hidden_tests(good_build):
    fc, _ = good_build
    nb = json.loads((fc.dist / "fx1" / "solutions" / "fx1.ipynb").read_text())
    text = json.dumps(nb)
    assert SOLUTION_LINE in text
    assert '"hidden": true' not in text and "multiplied by a" not in text
    assert any("before the due date" in line for line in fc.logs)


def test_no_change_rebuild_is_quick_and_runs_nothing(good_build):
    fc, _ = good_build
    t = time.monotonic()
    again = fc.build_one("fx1", solutions=True)
    assert not again.rebuilt and again.gates_run == []
    assert time.monotonic() - t < 5


def test_cli_reuses_the_stamps_and_reports_errors(good_build, tmp_path):
    fc, _ = good_build
    cmd = [sys.executable, "-m", "diffcourse_staff.release", "build", "--only", "fx1"]
    args = ["--course", str(fc.root / "course.yml"), "--dist", str(fc.dist), "--solutions"]
    out = subprocess.run(cmd + args, capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert "fx1: up to date" in out.stdout and "nothing rebuilt" in out.stdout
    bad = subprocess.run(cmd[:-1] + ["nope"] + args, capture_output=True, text=True, cwd=REPO)
    assert bad.returncode == 1 and "error: nope: no such assignment" in bad.stderr


# -- grading: time limit, tampering, outer guard ----------------------------------------


def test_patching_libraries_gains_nothing_and_is_noted_for_review(good_build, tmp_path):
    # The tests run in the grader: a patch inside the worker cannot reach them. The static
    # scan still notes it for staff (a second signal, not a score).
    fc, _ = good_build
    patch = "import numpy\nnumpy.allclose = lambda *a, **k: True\nnumpy.x = 1"
    sub = fc.dist / "fx1" / "student" / "fx1.ipynb"
    blank = tmp_path / "blank.ipynb"
    shutil.copy(sub, blank)
    edit_notebook(blank, lambda nb: nb["cells"].append(new_cell("code", patch)))
    out = grade_submission(blank, fc.dist / "fx1" / "fx1-autograder.zip", tmp_path / "out")
    assert out.completed and out.scores == {"q1": (0.0, 4.0), "q2": (0.0, 4.0)}
    assert any("numpy.x" in n for n in out.plugin["review_notes"])


def test_outer_guard_writes_results_for_every_question(good_build, tmp_path):
    fc, _ = good_build
    sub = fc.dist / "fx1" / "student" / "fx1.ipynb"
    out = grade_submission(sub, fc.dist / "fx1" / "fx1-autograder.zip", tmp_path / "o", 0.5)
    assert not out.completed and "outer time limit" in out.reason
    saved = json.loads((tmp_path / "o" / "results.json").read_text())
    questions = [t for t in saved["tests"] if "max_score" in t]
    assert [(t["name"], t["score"], t["max_score"]) for t in questions] == [
        ("q1", 0, 4.0),
        ("q2", 0, 4.0),
    ]
    assert all("not graded" in t["output"] for t in questions)
    assert saved["score"] == 0


def test_gate_d_refuses_a_cuda_torch_environment(good_build, tmp_path):
    fc, _ = good_build
    src = fc.dist / "fx1" / "fx1-autograder.zip"
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "environment.yml":
                data = data.replace(b"torch==2.13.0+cpu", b"torch==2.13.0")
            zout.writestr(name, data)
    with pytest.raises(ReleaseError, match=r"fx1: bad.zip: environment.yml must pin exactly"):
        check_environment("fx1", bad)


def test_gate_e_checks_the_runner_limits_from_the_course_file(good_build):
    fc, _ = good_build
    a = fc.course.assignment("fx1")
    other = Assignment(**{**a.__dict__, "cell_timeout": 60})
    with pytest.raises(ReleaseError, match="limits in grading_config.json are .* course.yml says"):
        check_runner("fx1", fc.dist / "fx1" / "fx1-autograder.zip", other)


def test_site_leak_scan_before_and_after_the_due_date(good_build, tmp_path):
    fc, _ = good_build
    site = tmp_path / "site"
    (site / "ps").mkdir(parents=True)
    html = (
        '<span class="n">scaled_values</span> <span class="o">=</span> '
        "np.asarray(x, dtype=float) * a"
    )
    (site / "ps" / "index.html").write_text(f"<pre>{html}</pre>")
    course = fc.course
    before = check_site(course, site, now=dt.datetime(2027, 1, 15))
    assert len(before) == 1 and before[0].startswith("fx1 q1: solution line")
    assert check_site(course, site, now=dt.datetime(2027, 2, 1)) == []


def test_building_an_assignment_leaves_the_site_to_its_own_scan(fixture_course):
    # Staff edit one problem set after a release: the site on disk is the previous one and
    # holds other handouts. The assignment's gates prove its own handout; `check-site`
    # judges the rebuilt site (here it still finds the planted line).
    fc = fixture_course
    page = fc.dist / "site" / "ps" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text("<pre>scaled_values = np.asarray(x, dtype=float) * a</pre>")
    result = fc.build_one("fx1")
    assert result.rebuilt and "leaks" in result.gates_run
    problems = check_site(fc.course, fc.dist / "site", now=dt.datetime(2027, 1, 15))
    assert len(problems) == 1 and problems[0].startswith("fx1 q1: solution line")


# -- broken fixtures ---------------------------------------------------------------------


def build_error(fc, **kw) -> str:
    with pytest.raises(ReleaseError) as info:
        fc.build_one("fx1", **kw)
    assert info.value.assignment == "fx1"
    assert (fc.dist / "fx1" / "GATES-FAILED.txt").exists() or not (fc.dist / "fx1").exists()
    return str(info.value)


def test_failing_reference_names_question_and_test_case(fixture_course):
    edit_notebook(
        fixture_course.sources["fx1"],
        lambda nb: replace_in_cell(nb, "def scale", "* a\n", "* a + 1\n"),
    )
    msg = build_error(fixture_course)
    assert msg.startswith("fx1 q1: reference gate: the reference solution scores 2/4")
    assert "test case 2 (hidden, source cell 11)" in msg


def test_infinite_loop_costs_only_that_question(fixture_course):
    edit_notebook(
        fixture_course.sources["fx1"],
        lambda nb: replace_in_cell(
            nb, "def scale", "    scaled_values", "    while True:\n        pass\n    scaled_values"
        ),
    )
    t = time.monotonic()
    msg = build_error(fixture_course)
    assert time.monotonic() - t < 120
    assert msg.startswith("fx1 q1: reference gate: the reference solution scores 0/4")
    assert "did not return within 10 s (the per-call time limit)" in msg
    results = json.loads(
        (fixture_course.build / "fx1" / "grading" / "reference" / "results.json").read_text()
    )
    scores = {t["name"]: t.get("score") for t in results["tests"] if "max_score" in t}
    assert scores == {"q1": 0, "q2": 4.0}  # the loop did not stop the rest of the grading


def test_placeholder_that_passes_a_hidden_test(fixture_course):
    def edit(nb):
        i = cell_index(nb, "# HIDDEN\nimport numpy")
        nb["cells"].insert(
            i + 1, new_cell("code", "# HIDDEN\nassert callable(scale), 'scale must be a function'")
        )

    edit_notebook(fixture_course.sources["fx1"], edit)
    msg = build_error(fixture_course)
    assert msg.startswith(
        "fx1 q1: blank gate: q1 test case 3 (hidden, source cell 12) passes on the untouched"
    )


def test_solution_leaked_in_a_public_test(fixture_course):
    def edit(nb):
        i = cell_index(nb, "scale(np.ones(2), 2.0)")
        nb["cells"].insert(
            i + 1,
            new_cell(
                "code",
                f"import numpy as np\nx, a = np.ones(2), 2.0\n{SOLUTION_LINE}\n"
                "assert scale(x, a).shape == scaled_values.shape, 'keep the shape'",
            ),
        )

    edit_notebook(fixture_course.sources["fx1"], edit)
    msg = build_error(fixture_course)
    assert msg.startswith("fx1 q1: leaks gate: 2 problems")
    failed = (fixture_course.dist / "fx1" / "GATES-FAILED.txt").read_text()
    assert failed.startswith("Do not upload or publish this build. fx1 q1: leaks gate: 2 problems")
    assert "leak: q1: solution line 'scaled_values = np.asarray" in msg
    # Public tests ship as files (tests/q1.py), where Otter reads them on Colab too.
    assert "student/tests/q1.py" in msg and "fx1-student.zip!fx1/tests/q1.py" in msg


def test_solution_leaked_in_markdown(fixture_course):
    def edit(nb):
        nb["cells"].insert(3, new_cell("markdown", f"Hint: `{SOLUTION_LINE}` does it."))

    edit_notebook(fixture_course.sources["fx1"], edit)
    assert "leak: q1: solution line" in build_error(fixture_course)


def test_a_hint_marked_as_given_is_not_a_leak(fixture_course):
    def edit(nb):
        nb["cells"].insert(3, new_cell("markdown", f"Hint: `{SOLUTION_LINE}` does it."))
        replace_in_cell(nb, "def scale", "* a\n", "* a  # given in the prompt\n")

    edit_notebook(fixture_course.sources["fx1"], edit)
    fixture_course.build_one("fx1", gates=False)
    from diffcourse_staff.release import authoring, leaks
    from diffcourse_staff.release.notebook import read_source_notebook

    src = read_source_notebook(authoring.ensure_notebook(fixture_course.sources["fx1"]))
    assert leaks.scan([fixture_course.dist / "fx1" / "student"], [src]) == []


def test_hidden_test_message_leaked_in_markdown(fixture_course):
    def edit(nb):
        nb["cells"].insert(
            3, new_cell("markdown", "Hint: the values are not multiplied by a: check the factor")
        )

    edit_notebook(fixture_course.sources["fx1"], edit)
    assert "leak: q1: hidden test message" in build_error(fixture_course)


def test_vendored_module_must_not_define_a_solution_function(fixture_course, tmp_path):
    lib = tmp_path / "fakelib"
    lib.mkdir()
    (lib / "helpers.py").write_text("def scale(x, a):\n    return a * x\n")
    (lib / "plots.py").write_text("from diffcourse.helpers import scale\n")
    folder = fixture_course.sources["fx1"].parent
    (folder / "release.yml").write_text("vendor_modules: [plots]\n")
    msg = build_error(fixture_course, vendor_source=lib)
    assert "plots.py (line 1) imports diffcourse.helpers, which release.yml does not vendor" in msg

    (folder / "release.yml").write_text("vendor_modules: [helpers, plots]\n")
    msg = build_error(fixture_course, vendor_source=lib)
    assert "q1: the vendored module defines 'scale', which a solution cell defines" in msg
    assert "the vendored module imports 'scale'" in msg


@pytest.mark.slow  # five otter assign runs: ~20 s on a quiet machine, 45 s under load
def test_only_the_edited_assignment_is_rebuilt(tmp_path):
    from tests.release.conftest import FixtureCourse

    fc = FixtureCourse(tmp_path, ids=("fx1", "fx2"))
    course = fc.course
    from diffcourse_staff.release.cli import build_course

    first = build_course(course, None, fc.options(gates=False))
    assert [r.rebuilt for r in first] == [True, True]
    assert [r.rebuilt for r in build_course(fc.course, None, fc.options(gates=False))] == [
        False,
        False,
    ]
    edit_notebook(fc.sources["fx2"], lambda nb: nb["cells"].append(new_cell("markdown", "New")))
    again = build_course(fc.course, None, fc.options(gates=False))
    assert [(r.assignment, r.rebuilt) for r in again] == [("fx1", False), ("fx2", True)]
    fc.overrides["fx1"] = {"due": "2027-01-22T23:59"}  # its course.yml entry changes
    again = build_course(fc.course, None, fc.options(gates=False))
    assert [(r.assignment, r.rebuilt) for r in again] == [("fx1", True), ("fx2", False)]
    (fc.dist / "fx2" / "fx2-student.zip").unlink()  # a missing output is rebuilt too
    again = build_course(fc.course, ["fx2"], fc.options(gates=False))
    assert [(r.assignment, r.rebuilt) for r in again] == [("fx2", True)]


def test_gate_e_refuses_a_zip_that_never_shows_hidden_results(good_build, tmp_path):
    fc, _ = good_build
    src = fc.dist / "fx1" / "fx1-autograder.zip"
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "otter_config.json":
                config = json.loads(data)
                config["show_hidden"] = False
                data = json.dumps(config).encode()
            zout.writestr(name, data)
    with pytest.raises(ReleaseError, match="show_hidden is off"):
        check_runner("fx1", bad, fc.course.assignment("fx1"))
