"""The real course: every notebook assignment of course.yml builds and passes every gate.

This is the heaviest test of the suite (otter assign and two gradings per
assignment), so it builds into the repository's own dist/ and build/ and
reuses their stamps: with unchanged inputs it only checks the stamps. A
failing gate fails the test with the gate's message.
"""

from __future__ import annotations

import pytest

from diffcourse_staff.course import DEFAULT_COURSE_FILE, load_course
from diffcourse_staff.release import BuildOptions, ReleaseError, build_assignment

COURSE = load_course(DEFAULT_COURSE_FILE)


@pytest.mark.parametrize("aid", [a.id for a in COURSE.notebook_assignments])
def test_assignment_builds_and_passes_every_gate(aid):
    a = COURSE.assignment(aid)
    opts = BuildOptions(log=print)  # the real dist/ and build/
    try:
        result = build_assignment(COURSE, a, opts)
    except ReleaseError as e:
        pytest.fail(str(e), pytrace=False)
    assert result.report is not None, f"{aid}: no grading report"
    ref = result.report["reference"]
    assert ref["total"] == ref["possible"] > 0
