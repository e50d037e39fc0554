"""The library wheel: built only once every problem set it answers is due, library modules only."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
import zipfile

import pytest

from diffcourse_staff.course import load_course
from diffcourse_staff.release.errors import ReleaseError
from diffcourse_staff.release.wheel import build_wheel, check_wheel, library_opens

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(scope="module")
def course():
    return load_course()


@pytest.fixture(scope="module")
def wheel(course, tmp_path_factory):
    last_due = max(a.due for a in course.notebook_assignments)
    return build_wheel(course, tmp_path_factory.mktemp("wheel"), now=last_due + MINUTE)


def test_the_library_opens_when_the_last_problem_set_it_answers_is_due(course):
    # The library implements every problem set's functions, so it opens with the last due date.
    assert library_opens(course) == max(a.due for a in course.notebook_assignments)


def test_the_release_refuses_the_wheel_a_minute_before(course, tmp_path):
    ps4 = course.assignment("ps4")  # the last problem set due (flow matching: diffcourse.flow)
    with pytest.raises(ReleaseError) as err:
        build_wheel(course, tmp_path, now=ps4.due - MINUTE)
    assert "answers of ps4" in str(err.value) and "published from 2027-04-08 23:59" in str(
        err.value
    )
    assert not list(tmp_path.glob("*.whl"))


def test_the_rule_follows_the_due_dates_of_the_course_file(course, tmp_path):
    # Move ps1's due date past the others: now the wheel waits for ps1.
    later = course.assignment("ps4").due + dt.timedelta(days=7)
    moved = dataclasses.replace(
        course,
        assignments=tuple(
            dataclasses.replace(a, due=later) if a.id == "ps1" else a for a in course.assignments
        ),
    )
    assert library_opens(moved) == later
    with pytest.raises(ReleaseError, match="answers of ps1"):
        build_wheel(moved, tmp_path, now=course.assignment("ps4").due + MINUTE)


def test_the_wheel_holds_the_library_and_no_staff_tooling(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "diffcourse/samplers.py" in names and "diffcourse/checkpoints/digits_mlp.pt" in names
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"diffcourse"}, tops


def test_the_wheel_installs_and_works_on_its_own(wheel, tmp_path):
    target = tmp_path / "site-packages"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, wheel],
        check=True,
    )
    code = (
        "import diffcourse, torch; from diffcourse.pretrained import load_digits_model;"
        "from diffcourse.samplers import ddim_sample; m = load_digits_model();"
        "x = ddim_sample(m, (2, 1, 8, 8), m.alphas_cumprod, 5, torch.Generator().manual_seed(0));"
        "print(diffcourse.__file__, tuple(x.shape))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith(str(target)) and "(2, 1, 8, 8)" in out


def test_the_wheel_gate_flags_staff_tooling_and_open_answers(course, wheel, tmp_path):
    ps1 = course.assignment("ps1")
    last_due = max(a.due for a in course.notebook_assignments)
    assert check_wheel(course, wheel, last_due + MINUTE) == []
    # The same wheel is a leak while ps1 is open...
    early = check_wheel(course, wheel, ps1.release)
    assert early and any("samplers.py" in p or "forward.py" in p for p in early)
    # ...and staff tooling in a wheel is refused whatever the date.
    bad = tmp_path / "diffcourse-0.0.0-py3-none-any.whl"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("diffcourse_staff/release/gates.py", "x = 1\n")
    assert any("staff tooling" in p for p in check_wheel(course, bad, ps1.due + MINUTE))
