"""The course library as a wheel for students, published only once it gives nothing away.

The library's modules implement what the problem sets ask students to write (the DDPM
step, DDIM, the guided prediction...). A problem set is *answered* by the library when
a library module defines a function that one of its solution cells defines, or when
the leak scan finds one of its solution lines or hidden tests in the library's source.
The wheel may be published from the latest due date of the problem sets it answers
(`library_opens`); before that the release refuses to build it, and the site shows
what the library will offer and when instead of its API reference.

The wheel holds the library package `diffcourse` only: the staff tooling is the separate
package `diffcourse_staff` and never enters it, so the wheel carries no hidden tests and no
course data. It is built from a staged copy of
src/diffcourse with `pip wheel` and scanned again after building: nothing of a
problem set still open at `now` may be in it.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from diffcourse_staff.course import REPO_ROOT, Assignment, Course
from diffcourse_staff.release.errors import ReleaseError
from diffcourse_staff.release.layout import DOWNLOADS

PACKAGE_DIR = REPO_ROOT / "src" / "diffcourse"
# The staff tooling is its own package (src/diffcourse_staff) and never ships; only caches are
# left out of the library's folder.
EXCLUDED = ("__pycache__",)
STAFF_PACKAGE = "diffcourse_staff"
DIST_NAME = "diffcourse"


@dataclass(frozen=True)
class Answered:
    """A problem set whose answers the library holds, with the first evidence found."""

    assignment: Assignment
    evidence: str


def _excluded(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in EXCLUDED)


def stage_library(dest: Path, source: Path = PACKAGE_DIR) -> Path:
    """Copy the library package into dest/diffcourse."""
    pkg = Path(dest) / DIST_NAME
    shutil.copytree(
        source,
        pkg,
        ignore=lambda folder, names: [n for n in names if _excluded(n) or n.endswith(".pyc")],
    )
    return pkg


def answered_problem_sets(course: Course, library: Path) -> list[Answered]:
    """The notebook assignments whose answers the library folder contains."""
    from diffcourse_staff.release import leaks
    from diffcourse_staff.release.build import notebook_path
    from diffcourse_staff.release.notebook import read_source_notebook

    found = []
    for a in course.notebook_assignments:
        path = notebook_path(course, a)
        if not path.exists():
            continue
        src = read_source_notebook(path)
        defines = [
            lk for lk in leaks.vendored_conflicts(library, src) if "module defines" in lk.what
        ]
        evidence = defines or leaks.scan([library], [src])  # the text scan only when needed
        if evidence:
            found.append(Answered(a, str(evidence[0]).replace(str(library), "diffcourse")))
    return found


def library_opens(course: Course, library: Path | None = None) -> dt.datetime | None:
    """When the wheel may be published: the latest due date of the problem sets it answers
    (None when it answers none)."""
    with tempfile.TemporaryDirectory() as tmp:
        lib = library or stage_library(Path(tmp))
        answered = answered_problem_sets(course, lib)
    return max((x.assignment.due for x in answered), default=None)


def _version(source: Path) -> str:
    for line in (source / "__init__.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise ReleaseError("library", f"{source / '__init__.py'} has no __version__")


PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "The diffusion library of {code}: {title}"
requires-python = ">=3.10"
dependencies = ["torch", "numpy", "scikit-learn", "matplotlib", "pillow", "tqdm", "pyyaml"]

[project.scripts]
diffcourse-train = "diffcourse.train:main"

[tool.setuptools.packages.find]
where = ["."]
include = ["diffcourse*"]

[tool.setuptools.package-data]
diffcourse = ["checkpoints/*.pt", "checkpoints/*.md"]
"""


def build_wheel(
    course: Course,
    out_dir: Path,
    now: dt.datetime | None = None,
    source: Path = PACKAGE_DIR,
) -> Path:
    """Build the library wheel into out_dir; refuse while a problem set it answers is open."""
    now = now or dt.datetime.now()
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "stage"
        lib = stage_library(stage, source)
        answered = answered_problem_sets(course, lib)
        still_open = [x for x in answered if x.assignment.due > now]
        if still_open:
            opens = max(x.assignment.due for x in answered)
            raise ReleaseError(
                "library",
                [
                    f"the wheel holds answers of {x.assignment.id},"
                    f" due {x.assignment.due:%Y-%m-%d %H:%M} ({x.evidence})"
                    for x in still_open
                ]
                + [f"it can be published from {opens:%Y-%m-%d %H:%M} ({course.timezone})"],
            )
        (stage / "pyproject.toml").write_text(
            PYPROJECT.format(
                name=DIST_NAME, version=_version(source), code=course.code, title=course.title
            ),
            encoding="utf-8",
        )
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in out_dir.glob(f"{DIST_NAME}-*.whl"):
            old.unlink()
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--quiet", "-w", str(out_dir), str(stage)],
            capture_output=True, text=True,
        )  # fmt: skip
        if proc.returncode != 0:
            raise ReleaseError("library", f"pip wheel failed:\n{proc.stdout}{proc.stderr}")
    (wheel,) = out_dir.glob(f"{DIST_NAME}-*.whl")
    problems = check_wheel(course, wheel, now)
    if problems:
        wheel.unlink()
        raise ReleaseError("library", problems)
    return wheel


def check_wheel(course: Course, wheel: Path, now: dt.datetime) -> list[str]:
    """Leak gate of a built wheel: staff tooling, or any secret of a set still open at now."""
    from diffcourse_staff.release import leaks
    from diffcourse_staff.release.build import notebook_path
    from diffcourse_staff.release.notebook import read_source_notebook

    problems = []
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            parts = name.split("/")
            if parts[0] == STAFF_PACKAGE or (
                parts[0] == DIST_NAME and len(parts) > 1 and _excluded(parts[1])
            ):
                problems.append(f"{wheel.name}: staff tooling {name} is in the wheel")
    open_sets = [
        read_source_notebook(notebook_path(course, a))
        for a in course.notebook_assignments
        if a.due > now and notebook_path(course, a).exists()
    ]
    with tempfile.TemporaryDirectory() as tmp:  # the scan reads .zip members, not .whl ones
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(tmp)
        for leak in leaks.scan([Path(tmp)], open_sets):
            problems.append(f"{wheel.name}: {str(leak).replace(tmp + '/', '')}")
        for src in open_sets:
            for leak in leaks.vendored_conflicts(Path(tmp), src):
                if "module defines" in leak.what:
                    problems.append(f"{wheel.name}: {str(leak).replace(tmp + '/', '')}")
    return problems


def site_problems(course: Course, site: Path, now: dt.datetime) -> list[str]:
    """The library's part of the site leak gate: API pages and the wheel, by the same date."""
    site = Path(site)
    api = site / "library" / "api"
    wheels = sorted((site / DOWNLOADS).glob(f"{DIST_NAME}-*.whl"))
    if not (api.exists() or wheels):
        return []
    opens = library_opens(course)
    problems = []
    if opens is not None and now < opens:
        if api.exists():
            problems.append(f"library API pages in {api} before the library opens ({opens})")
        problems += [f"{w} is published before the library opens ({opens})" for w in wheels]
    for w in wheels:
        problems += check_wheel(course, w, now)
    return problems
