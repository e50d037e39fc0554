"""The course release: build every assignment into dist/ and prove it with gates.

    python -m diffcourse_staff.release build --all          # what `make release` runs
    python -m diffcourse_staff.release build --only ps1     # one assignment
    python -m diffcourse_staff.release build --all --no-gates
    python -m diffcourse_staff.release build --only ps1 --solutions
    python -m diffcourse_staff.release check-site           # leak scan of dist/site
    python -m diffcourse_staff.release grade ZIP NOTEBOOK   # grade one submission locally

Public API: build_course, build_assignment, BuildOptions, check_site,
grade_submission, ReleaseError. See site/staff/release-guide.md for the staff
cycle and assignments/README.md for the authoring conventions.
"""

from diffcourse_staff.release.build import BuildOptions, BuildResult, build_assignment
from diffcourse_staff.release.cli import build_course
from diffcourse_staff.release.errors import ReleaseError
from diffcourse_staff.release.grade import grade_submission
from diffcourse_staff.release.leaks import check_site

__all__ = [
    "BuildOptions",
    "BuildResult",
    "ReleaseError",
    "build_assignment",
    "build_course",
    "check_site",
    "grade_submission",
]
