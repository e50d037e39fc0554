"""The dist/ layout has one home (release/layout.py): the build writes where it says, the
site reads where it says, and no other module spells a release path out."""

from __future__ import annotations

import re

from diffcourse_staff.release.layout import (
    DIST_DIR_ENV,
    Layout,
    site_handout,
    site_student_notebook,
    site_student_zip,
)
from diffcourse_staff.site import release
from tests.release.conftest import REPO

# A release file name or folder written as a literal (the layout's own spelling).
RELEASE_LITERALS = re.compile(
    r'-student\.zip"|-autograder\.zip"|"grading-report\.json"|"GATES-FAILED\.txt"|'
    r'"stamps\.json"|"downloads/'
)


def test_the_build_writes_where_the_layout_says(good_build):
    fc, _ = good_build
    paths = Layout(fc.dist, fc.build).set(fc.course.assignment("fx1"))
    for path in (
        paths.student_notebook,
        paths.student_zip,
        paths.autograder_zip,
        paths.grading_report,
        paths.stamps,
        paths.otter_autograder_notebook,
        paths.solutions_dir / paths.notebook_name,
        paths.grading_dir("reference") / "results.json",
        paths.grading_dir("student") / "results.json",
        paths.stage_dir / paths.notebook_name,
    ):
        assert path.is_file(), path
    assert not paths.gates_failed.exists()
    # dist/fx1 holds nothing the layout does not name
    named = {paths.student_dir, paths.student_zip, paths.autograder_zip, paths.grading_report}
    named.add(paths.solutions_dir)
    assert set(paths.dist.iterdir()) == named


def test_the_site_reads_the_release_named_by_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(DIST_DIR_ENV, str(tmp_path / "elsewhere"))
    paths = release().set_by_id("ps1")
    assert paths.student_zip == tmp_path / "elsewhere" / "ps1" / "ps1-student.zip"
    assert release().wheel_dir == tmp_path / "elsewhere" / "library"
    monkeypatch.delenv(DIST_DIR_ENV)
    assert release().dist == REPO / "dist"


def test_a_site_file_is_traced_back_to_its_handout():
    zip_member = f"/x/site/{site_student_zip('ps2')}!ps2/tests/q1.py"
    assert site_handout(zip_member) == "ps2"
    assert site_handout(f"/x/site/{site_student_notebook('ps3')}") == "ps3"
    assert site_handout("C:\\site\\" + site_student_notebook("ps1").replace("/", "\\")) == "ps1"
    assert site_handout("/x/site/assignments/ps2/index.html") is None
    assert site_handout(f"/x/site/{site_student_zip('ps2')}") is None  # the zip, not a member


def test_no_other_module_spells_out_a_release_path():
    # Tests may: they state the layout students and Gradescope get, as an oracle.
    offenders = []
    for folder in ("src", "bench", "autograder"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if path.name == "layout.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if RELEASE_LITERALS.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    allowed = ("project_pages.py",)  # the mini project's own downloads, not the release's
    offenders = [o for o in offenders if not o.split(":")[0].endswith(allowed)]
    assert offenders == [], "ask release/layout.py instead:\n" + "\n".join(offenders)
