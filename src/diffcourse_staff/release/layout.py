"""Where the release puts things: the one description of dist/ and build/.

Every other module (the build, the gates, the site, the batch grader, the
benches and tests) asks this module for a path instead of spelling it out.
The Makefile's globs (`dist/*/*-student.zip`...) follow what is written here.

    dist/<id>/student/               notebook, support files, requirements (what students get)
    dist/<id>/<id>-student.zip       the same folder, zipped under <id>/
    dist/<id>/<id>-autograder.zip    for Gradescope (stable name; holds the hidden tests)
    dist/<id>/grading-report.json    the reference gate's measurements, Gradescope settings
    dist/<id>/GATES-FAILED.txt       present while the last build failed a gate
    dist/<id>/solutions/             only with --solutions (publish after the due date)
    dist/library/diffcourse-*.whl    the library wheel, once no set it answers is open
    dist/site/                       the course site
    build/<id>/src/                  the notebook as Otter sees it (merged config)
    build/<id>/otter/                Otter's own output (never shipped)
    build/<id>/grading/<kind>/       results of grading the reference and the blank notebook
    build/<id>/stamps.json           the incremental-build stamps

On the site, a set's student zip is `downloads/<id>-student.zip` and its
notebook (what "Open in Colab" opens) `downloads/<id>.ipynb`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from diffcourse_staff.course import REPO_ROOT, Assignment

DIST_DIR = REPO_ROOT / "dist"
BUILD_DIR = REPO_ROOT / "build"
# The site reads the release from here when set (site tests point it at a fixture release).
DIST_DIR_ENV = "DIFFCOURSE_DIST_DIR"
WHEEL_FOLDER = "library"
SITE_FOLDER = "site"
DOWNLOADS = "downloads"


def notebook_name(assignment: Assignment) -> str:
    """The file name of a set's notebook as Otter and students see it: its source's stem."""
    return f"{Path(assignment.notebook or assignment.id).stem}.ipynb"


@dataclass(frozen=True)
class SetPaths:
    """One assignment's outputs: dist/<id>/ (what ships) and build/<id>/ (what does not)."""

    id: str
    notebook_name: str  # e.g. ps1.ipynb
    dist: Path  # dist/<id>
    build: Path  # build/<id>

    # -- shipped ----------------------------------------------------------------------
    @property
    def student_dir(self) -> Path:
        return self.dist / "student"

    @property
    def student_notebook(self) -> Path:
        return self.student_dir / self.notebook_name

    @property
    def vendored_dir(self) -> Path:
        """The library modules a set gives students (release.yml's vendor_modules)."""
        return self.student_dir / "diffcourse"

    @property
    def student_zip(self) -> Path:
        return self.dist / f"{self.id}-student.zip"

    @property
    def student_zip_prefix(self) -> str:
        """The folder the student zip unpacks into."""
        return self.id

    @property
    def autograder_zip(self) -> Path:
        return self.dist / f"{self.id}-autograder.zip"

    @property
    def grading_report(self) -> Path:
        return self.dist / "grading-report.json"

    @property
    def gates_failed(self) -> Path:
        return self.dist / "GATES-FAILED.txt"

    @property
    def solutions_dir(self) -> Path:
        return self.dist / "solutions"

    # -- kept in build/ ---------------------------------------------------------------
    @property
    def stage_dir(self) -> Path:
        """The notebook and its files as Otter reads them."""
        return self.build / "src"

    @property
    def otter_dir(self) -> Path:
        return self.build / "otter"

    @property
    def otter_student_dir(self) -> Path:
        return self.otter_dir / "student"

    @property
    def otter_autograder_notebook(self) -> Path:
        """Otter's autograder notebook: the reference solutions with every test."""
        return self.otter_dir / "autograder" / self.notebook_name

    def grading_dir(self, kind: str) -> Path:
        """Where grading `kind` (reference, student) writes its results.json."""
        return self.build / "grading" / kind

    @property
    def stamps(self) -> Path:
        return self.build / "stamps.json"

    @property
    def rebuilt_dirs(self) -> tuple[Path, ...]:
        """What a rebuild clears first."""
        return (self.dist, self.stage_dir, self.otter_dir, self.build / "grading")


@dataclass(frozen=True)
class Layout:
    """The release's folders: dist/ (what ships) and build/ (raw output and stamps)."""

    dist: Path = DIST_DIR
    build: Path = BUILD_DIR

    @classmethod
    def beside(cls, dist: Path) -> Layout:
        """A release in `dist`, with its build/ folder next to it."""
        return cls(Path(dist), Path(dist).parent / "build")

    @classmethod
    def from_env(cls) -> Layout:
        """The release the site publishes: DIFFCOURSE_DIST_DIR, or dist/."""
        return cls.beside(Path(os.environ.get(DIST_DIR_ENV) or DIST_DIR))

    def set(self, assignment: Assignment) -> SetPaths:
        return self.set_by_id(assignment.id, notebook_name(assignment))

    def set_by_id(self, assignment_id: str, notebook: str | None = None) -> SetPaths:
        """A set's paths from its id alone (its notebook named <id>.ipynb unless given)."""
        return SetPaths(
            assignment_id,
            notebook or f"{assignment_id}.ipynb",
            self.dist / assignment_id,
            self.build / assignment_id,
        )

    @property
    def wheel_dir(self) -> Path:
        return self.dist / WHEEL_FOLDER

    @property
    def site_dir(self) -> Path:
        return self.dist / SITE_FOLDER

    def grading_reports(self) -> list[Path]:
        """Every grading report of this release."""
        return sorted(self.dist.glob("*/grading-report.json"))


# -- the release's files inside the site ------------------------------------------------


def site_download(file_name: str) -> str:
    """The site path of a file offered for download (zips, the wheel, starters)."""
    return f"{DOWNLOADS}/{file_name}"


def site_student_zip(assignment_id: str) -> str:
    """The site path of a set's student zip."""
    return site_download(f"{assignment_id}-student.zip")


def site_student_notebook(assignment_id: str) -> str:
    """The site path of a set's student notebook (what "Open in Colab" opens)."""
    return site_download(f"{assignment_id}.ipynb")


_SITE_HANDOUT = re.compile(rf"{DOWNLOADS}/([a-z0-9_]+)(?:-student\.zip!|\.ipynb$)")


def site_handout(where: str) -> str | None:
    """The set whose handout a file of the built site is (a member of its student zip, or
    its notebook), or None. `where` is a leak scan's location: `path` or `zip!member`."""
    match = _SITE_HANDOUT.search(where.replace("\\", "/"))
    return match.group(1) if match else None
