"""`python -m diffcourse_staff.site.build`: the site into dist/site with `mkdocs build --strict`.

Before MkDocs runs, the command checks what the site needs and says how to get it:
the figures (`python -m diffcourse_staff.site.figures`, or `make figures`), MathJax
(`make node-deps`) and the student zip of every problem set
(dist/<id>/<id>-student.zip, built by the release: `make release`).

    python -m diffcourse_staff.site.build                    # the real site, into dist/site
    python -m diffcourse_staff.site.build --stub-downloads   # without the release: download
                                                       # links become a notice
    python -m diffcourse_staff.site.build --site-dir /tmp/s  # somewhere else

`--stub-downloads` is for previews and for the site tests (tests/site), which must not
depend on the release build; the published site is always built without it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from diffcourse_staff.course import REPO_ROOT, CourseFileError
from diffcourse_staff.site import (
    COURSE_FILE_ENV,
    DOWNLOADS_ENV,
    FIGURES_DIR,
    NODE_MODULES,
    SITE_DIR,
    release,
    site_course,
)


class SiteBuildError(RuntimeError):
    """Something the site needs is missing; the message says how to make it."""


def preflight(stub_downloads: bool) -> None:
    """Fail early, and clearly, on a missing prerequisite of the site."""
    from diffcourse_staff.site.figures import stale

    try:
        course = site_course()
    except CourseFileError as e:
        raise SiteBuildError(f"the course file is invalid: {e}") from None
    if not (NODE_MODULES / "mathjax" / "es5" / "tex-chtml.js").is_file():
        raise SiteBuildError("MathJax is not installed: run `make node-deps` (npm ci)")
    old = [f.name for f in stale(FIGURES_DIR)]
    if old:
        raise SiteBuildError(
            f"{len(old)} figure(s) missing or out of date in {FIGURES_DIR} ({', '.join(old)}):"
            " run `make figures` (python -m diffcourse_staff.site.figures)"
        )
    if not stub_downloads:
        zips = [release().set(a).student_zip for a in course.notebook_assignments]
        missing = [
            str(z.relative_to(REPO_ROOT) if z.is_relative_to(REPO_ROOT) else z)
            for z in zips
            if not z.is_file()
        ]
        if missing:
            raise SiteBuildError(
                f"student zip(s) missing: {', '.join(missing)}. The release builds them"
                " before the site (make release); for a preview without them use"
                " --stub-downloads"
            )


def build(site_dir: Path = SITE_DIR, stub_downloads: bool = False, check: bool = True) -> float:
    """Build the site; return the seconds MkDocs took. Raises SiteBuildError."""
    if check:
        preflight(stub_downloads)
    env = dict(os.environ)
    env[DOWNLOADS_ENV] = "stub" if stub_downloads else "require"
    env.setdefault("NO_MKDOCS_2_WARNING", "1")
    cmd = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "--clean",
        "--config-file",
        str(REPO_ROOT / "mkdocs.yml"),
        "--site-dir",
        str(site_dir),
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SiteBuildError(f"mkdocs build --strict failed:\n{proc.stdout}{proc.stderr}")
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m diffcourse_staff.site.build",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--site-dir", type=Path, default=SITE_DIR, help="output folder")
    parser.add_argument(
        "--stub-downloads",
        action="store_true",
        help="build without the student zips (links become a notice)",
    )
    parser.add_argument("--course", type=Path, help=f"another course file (sets {COURSE_FILE_ENV})")
    args = parser.parse_args(argv)
    if args.course:
        os.environ[COURSE_FILE_ENV] = str(args.course.resolve())
    try:
        seconds = build(args.site_dir.resolve(), args.stub_downloads)
    except SiteBuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"site: built in {seconds:.1f} s -> {args.site_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
