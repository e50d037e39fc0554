"""The course site: pages generated from the course file, figures made by the library.

- `pages`: markdown for the generated pages and the `{{ macro }}` tags of the
  hand-written ones, all from `diffcourse_staff.course.load_course()`.
- `hooks`: the MkDocs hooks (mkdocs.yml `hooks:`) that bring lectures/, the
  generated pages, the figures, MathJax and the student downloads into the site.
- `gallery`: the figures and animations themselves, one module per group of lectures.
- `figures`: `python -m diffcourse_staff.site.figures` makes every figure of the gallery
  deterministically into build/figures, redoing only those whose code or inputs changed.
- `build`: `python -m diffcourse_staff.site.build` runs `mkdocs build --strict` into dist/site.

Two environment variables steer a build (the `build` command sets them):
DIFFCOURSE_COURSE_FILE (another course file, for tests) and
DIFFCOURSE_SITE_DOWNLOADS ("require": a missing student zip fails the build;
"stub": download links become a notice, for previews and for the site tests), and
DIFFCOURSE_DIST_DIR (where the release's zips are read from, default dist/).
"""

from __future__ import annotations

import os
from pathlib import Path

from diffcourse_staff.course import DEFAULT_COURSE_FILE, REPO_ROOT, Course, load_course

FIGURES_DIR = REPO_ROOT / "build" / "figures"
DIST_DIR = REPO_ROOT / "dist"
SITE_DIR = DIST_DIR / "site"
NODE_MODULES = REPO_ROOT / "node_modules"

COURSE_FILE_ENV = "DIFFCOURSE_COURSE_FILE"
DOWNLOADS_ENV = "DIFFCOURSE_SITE_DOWNLOADS"
DOWNLOAD_MODES = ("require", "stub")
DIST_DIR_ENV = "DIFFCOURSE_DIST_DIR"


def course_file() -> Path:
    """The course file the site is built from (DIFFCOURSE_COURSE_FILE overrides)."""
    return Path(os.environ.get(COURSE_FILE_ENV) or DEFAULT_COURSE_FILE)


def site_course() -> Course:
    return load_course(course_file())


def release_dir(assignment_id: str) -> Path:
    """An assignment's folder in the release (under DIFFCOURSE_DIST_DIR, default dist/)."""
    return Path(os.environ.get(DIST_DIR_ENV) or DIST_DIR) / assignment_id


def student_zip(assignment_id: str) -> Path:
    """Where the release writes an assignment's student zip."""
    return release_dir(assignment_id) / f"{assignment_id}-student.zip"


def student_notebook(assignment_id: str) -> Path:
    """Where the release writes an assignment's student notebook (published for Colab)."""
    return release_dir(assignment_id) / "student" / f"{assignment_id}.ipynb"


def grading_report(assignment_id: str) -> Path:
    """Where the release writes what grading the reference cost (gate a's measurement)."""
    return release_dir(assignment_id) / "grading-report.json"
