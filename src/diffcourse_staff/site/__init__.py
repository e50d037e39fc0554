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
DIFFCOURSE_DIST_DIR (where the release's zips are read from, default dist/; where
each file lies in it is release/layout.py's to say: ask `release()`).
"""

from __future__ import annotations

import os
from pathlib import Path

from diffcourse_staff.course import DEFAULT_COURSE_FILE, REPO_ROOT, Course, load_course
from diffcourse_staff.release.layout import Layout

FIGURES_DIR = REPO_ROOT / "build" / "figures"
SITE_DIR = Layout().site_dir
NODE_MODULES = REPO_ROOT / "node_modules"

COURSE_FILE_ENV = "DIFFCOURSE_COURSE_FILE"
DOWNLOADS_ENV = "DIFFCOURSE_SITE_DOWNLOADS"
DOWNLOAD_MODES = ("require", "stub")


def course_file() -> Path:
    """The course file the site is built from (DIFFCOURSE_COURSE_FILE overrides)."""
    return Path(os.environ.get(COURSE_FILE_ENV) or DEFAULT_COURSE_FILE)


def site_course() -> Course:
    return load_course(course_file())


def release() -> Layout:
    """The release the site publishes (DIFFCOURSE_DIST_DIR, default dist/)."""
    return Layout.from_env()
