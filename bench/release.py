"""Release benchmark: cold build, no-change rebuild, and the cost of grading each reference.

    .venv/bin/python bench/release.py [--course course.yml]

Builds every notebook assignment of the course with all gates into a fresh
temporary dist/ and build/ (a cold `make release` without the site), builds
again with nothing changed, and prints the figures the reference gate measured while
grading each reference submission through its autograder zip (whole process
tree: otter and its kernel, polled with psutil). Targets: cold <= 300 s,
no-change <= 10 s, grading <= 600 MB peak and <= 120 s CPU per reference.
If the course file does not load yet, the fixture course of the tests is used.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGETS = {"cold_s": 300, "nochange_s": 10, "peak_rss_mb": 600, "cpu_s": 120}


def fixture_course(root: Path) -> Path:
    from tests.release.conftest import copy_fixture, write_course

    copy_fixture(root, "fx1")
    copy_fixture(root, "fx2")
    return write_course(root, {"fx1": {}, "fx2": {}})


def build(course: Path, dist: Path) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "diffcourse_staff.release", "build", "--all"]
    cmd += ["--course", str(course), "--dist", str(dist)]
    t = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    seconds = time.monotonic() - t
    if out.returncode != 0:
        sys.exit(f"build failed:\n{out.stdout}\n{out.stderr}")
    return seconds, out.stdout


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "OVER TARGET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--course", default=str(REPO / "course.yml"))
    args = parser.parse_args()
    from diffcourse_staff.course import CourseFileError, load_course
    from diffcourse_staff.release.layout import Layout

    tmp = Path(tempfile.mkdtemp(prefix="release-bench-"))
    try:
        course = Path(args.course)
        try:
            load_course(course)
        except CourseFileError as e:
            print(f"note: {e}\nnote: benchmarking the fixture course of tests/release instead")
            course = fixture_course(tmp / "course")
        dist = tmp / "dist"
        print(f"course: {course}  ({os.cpu_count()} CPUs)")
        cold, log = build(course, dist)
        print(log.rstrip())
        print(
            f"cold build, every gate:   {cold:7.1f} s  (target {TARGETS['cold_s']} s: "
            f"{verdict(cold, TARGETS['cold_s'])})"
        )
        again, _ = build(course, dist)
        print(
            f"no-change rebuild:        {again:7.1f} s  (target {TARGETS['nochange_s']} s: "
            f"{verdict(again, TARGETS['nochange_s'])})"
        )
        for report_path in Layout.beside(dist).grading_reports():
            report = json.loads(report_path.read_text())
            ref = report["reference"]
            print(
                f"grading {report['assignment']} reference: {ref['total']:g}/{ref['possible']:g}, "
                f"{ref['wall_s']:.1f} s wall, {ref['cpu_s']:.1f} s CPU "
                f"({verdict(ref['cpu_s'], TARGETS['cpu_s'])}), {ref['peak_rss_mb']:.0f} MB peak "
                f"({verdict(ref['peak_rss_mb'], TARGETS['peak_rss_mb'])}; "
                f"{ref.get('peak_anon_mb') or float('nan'):.0f} MB of it anonymous)"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
