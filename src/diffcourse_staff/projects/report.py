"""Build a project report from Markdown: the starters' own builder, run from the repository.

The builder lives in mini_projects/starters/common/build_report.py so that a student's
copied starter can build its report without this package; staff use the same file.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from diffcourse_staff.projects.starter import COMMON, STARTERS_DIR


def _builder():
    path = STARTERS_DIR / COMMON / "build_report.py"
    spec = importlib.util.spec_from_file_location("diffcourse_build_report", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_report(markdown: Path, out: Path | None = None) -> Path:
    """Write the PDF (or HTML without a Chromium-family browser) and return its path."""
    return _builder().build(Path(markdown), out)
