"""Copy a starter kit: the track's files, the common tools and the report template.

A starter is mini_projects/starters/<track>/ plus mini_projects/starters/common/
(the report builder and the results table) plus mini_projects/report-template.md
as report.md: one source for what every starter shares.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from diffcourse_staff.projects import PROJECTS_DIR

STARTERS_DIR = PROJECTS_DIR / "starters"
EXAMPLE = "example"  # the worked example, copied like a starter (its own report.md)
COMMON = "common"
TEMPLATE = PROJECTS_DIR / "report-template.md"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "runs", "results", "data", ".*")


def tracks() -> list[str]:
    return sorted(p.name for p in STARTERS_DIR.iterdir() if p.is_dir() and p.name != COMMON)


def _source(track: str) -> Path:
    return PROJECTS_DIR / EXAMPLE if track == EXAMPLE else STARTERS_DIR / track


def copy_starter(track: str, dest: Path) -> Path:
    """Copy the starter of `track` (or the worked example) into dest, a new or empty folder."""
    if track not in (*tracks(), EXAMPLE):
        known = ", ".join((*tracks(), EXAMPLE))
        raise ValueError(f"unknown track {track!r} (known: {known})")
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"{dest} exists and is not an empty folder: choose another DEST")
    shutil.copytree(STARTERS_DIR / COMMON, dest, ignore=IGNORE, dirs_exist_ok=True)
    if track != EXAMPLE:
        shutil.copy2(TEMPLATE, dest / "report.md")
    shutil.copytree(_source(track), dest, ignore=IGNORE, dirs_exist_ok=True)
    (dest / "requirements.txt").write_text(requirements(), encoding="utf-8")
    return dest


def requirements() -> str:
    """The starter's requirements: the course's wheel by file name (never a package index:
    another project could own the name there), and Markdown for the report."""
    from diffcourse_staff.release.wheel import DIST_NAME, PACKAGE_DIR, _version

    wheel = f"{DIST_NAME}-{_version(PACKAGE_DIR)}-py3-none-any.whl"
    return (
        f"# The course library: download {wheel} from the course site's\n"
        "# Library page into this folder first. It brings torch, numpy, scikit-learn,\n"
        "# matplotlib, pillow, tqdm and pyyaml; for a CPU-only torch run first:\n"
        "#   pip install torch --index-url https://download.pytorch.org/whl/cpu\n"
        f"./{wheel}\n"
        "markdown\n"
    )


def starter_zip(track: str, out_dir: Path) -> Path:
    """The starter (or the worked example) as a zip with one top folder, byte-stable."""
    name = "example-project" if track == EXAMPLE else f"starter-{track}"
    out = Path(out_dir) / f"{name}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = copy_starter(track, Path(tmp) / name)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo(
                        path.relative_to(folder.parent).as_posix(), (2027, 1, 1, 0, 0, 0)
                    )
                    info.external_attr = 0o644 << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    zf.writestr(info, path.read_bytes())
    return out


def template_zip(out_dir: Path) -> Path:
    """The report template with its builder (build_report.py), zipped for the site."""
    out = Path(out_dir) / "report-template.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    members = {
        "report-template/report.md": TEMPLATE,
        "report-template/build_report.py": STARTERS_DIR / COMMON / "build_report.py",
    }
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in members.items():
            info = zipfile.ZipInfo(name, (2027, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return out
