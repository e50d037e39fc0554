"""The course release: build every assignment into dist/ and prove it with gates.

    python -m diffcourse.release build --all          # what `make release` runs
    python -m diffcourse.release build --only ps1     # one assignment
    python -m diffcourse.release build --all --no-gates
    python -m diffcourse.release build --only ps1 --solutions
    python -m diffcourse.release check-site           # leak scan of dist/site
    python -m diffcourse.release grade ZIP NOTEBOOK   # grade one submission locally

Public API: build_course, build_assignment, BuildOptions, check_site,
grade_submission, ReleaseError. See site/staff/release-guide.md for the staff
cycle and assignments/README.md for the authoring conventions.
"""

from diffcourse.release.build import BuildOptions, BuildResult, build_assignment
from diffcourse.release.cli import build_course, check_site
from diffcourse.release.errors import ReleaseError
from diffcourse.release.grade import grade_submission

__all__ = [
    "BuildOptions",
    "BuildResult",
    "ReleaseError",
    "build_assignment",
    "build_course",
    "check_site",
    "grade_submission",
]
