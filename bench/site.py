"""Site benchmarks: print the two figures the targets ask for.

1. `mkdocs build --strict` of the whole site with the figures already made (target <= 60 s);
2. regenerating every figure and animation from scratch into a temporary folder
   (target <= 3 minutes on 2 cores), with the time of each.

    python bench/site.py                # both
    python bench/site.py --build-only   # just the site build

The build uses --stub-downloads when the release has not built the student zips.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

from diffcourse_staff.site import FIGURES_DIR, release, site_course
from diffcourse_staff.site.build import build
from diffcourse_staff.site.figures import make_figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}")
    course = site_course()
    stub = not all(release().set(a).student_zip.is_file() for a in course.notebook_assignments)

    make_figures(FIGURES_DIR, log=lambda *a: None)  # the build needs current figures
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        build(Path(tmp) / "site", stub_downloads=stub)
        total = time.perf_counter() - start
    print(f"site build (mkdocs --strict, figures made{', stub downloads' if stub else ''}):"
          f" {total:.1f} s (target <= 60 s)")  # fmt: skip

    if not args.build_only:
        torch.set_num_threads(2)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            times = make_figures(Path(tmp), force=True, log=lambda *a: None)
            total = time.perf_counter() - start
        for name, seconds in sorted(times.items(), key=lambda kv: -kv[1]):
            print(f"  {name:32s} {seconds:6.1f} s")
        print(f"all {len(times)} figures from scratch: {total:.1f} s (target <= 180 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
