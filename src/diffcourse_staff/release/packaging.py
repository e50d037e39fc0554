"""What the build steps do to files: copy, vendor, run Otter, write notebooks and zips.

The steps themselves, and their order, are in release/build.py; this module holds
the file work they share, so that build.py reads as the pipeline.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from diffcourse_staff.course import Assignment
from diffcourse_staff.release.config import (
    GRADING_CONFIG,
    PLUGIN_DIR,
    PLUGIN_PACKAGE,
    RUN_AUTOGRADER,
    grading_config,
    plugin_files,
)
from diffcourse_staff.release.errors import ReleaseError

ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed member dates: same inputs, same zip bytes


def clean_notebook(nb: dict) -> dict:
    """A copy without outputs or execution counts."""
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def write_notebook(nb: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def copy_path(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        shutil.copy2(src, dst)


def vendor(modules: list[str], source: Path, dest: Path) -> None:
    """Copy the named diffcourse modules and checkpoints/ into dest (a `diffcourse` folder)."""
    dest.mkdir(parents=True)
    (dest / "__init__.py").write_text(
        '"""The parts of the course library that this assignment gives you (read-only)."""\n',
        encoding="utf-8",
    )
    for m in modules:
        src = source / f"{m}.py"
        copy_path(src if src.exists() else source / m, dest / (src.name if src.exists() else m))
    if (source / "checkpoints").is_dir():
        copy_path(source / "checkpoints", dest / "checkpoints")


def check_vendored_imports(aid: str, modules: list[str], dest: Path) -> None:
    """A vendored module may import only other vendored modules of diffcourse."""
    for p in sorted(dest.rglob("*.py")):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.ImportFrom):
                if node.level:  # relative import inside diffcourse
                    targets = [node.module.split(".")[0]] if node.module else []
                    targets += [a.name for a in node.names] if not node.module else []
                elif node.module and node.module.split(".")[0] == "diffcourse":
                    parts = node.module.split(".")
                    targets = [parts[1]] if len(parts) > 1 else [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [
                    a.name.split(".")[1]
                    for a in node.names
                    if a.name.startswith("diffcourse.") and a.name.count(".") >= 1
                ]
            for t in targets:
                if t not in modules and t != "checkpoints":
                    raise ReleaseError(
                        aid,
                        f"vendored {p.name} (line {node.lineno}) imports diffcourse.{t}, which "
                        "release.yml does not vendor: students and Gradescope would get an "
                        "ImportError (add it to vendor_modules if students may see it)",
                    )


def run_otter_assign(aid: str, nb: Path, out: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PLUGIN_DIR.parent) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    cmd = [sys.executable, "-m", "otter", "assign", "--no-run-tests", str(nb), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=nb.parent)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
        raise ReleaseError(aid, f"otter assign failed on {nb}:\n{tail}")


def runner_members(assignment: Assignment, src) -> dict[str, bytes]:
    """What the grading runner needs in the zip besides Otter's tests: its configuration,
    Gradescope's entry script, and the trusted reference (never copied next to the
    submission, unlike files/)."""
    from diffcourse_staff.release.reference import question_names, reference_module

    graded = [q.name for q in src.questions if not q.manual]
    return {
        "run_autograder": RUN_AUTOGRADER.encode("utf-8"),
        GRADING_CONFIG: json.dumps(grading_config(assignment, graded), indent=2).encode("utf-8"),
        "reference/solutions.py": reference_module(src).encode("utf-8"),
        "reference/questions.json": json.dumps(question_names(src), indent=2).encode("utf-8"),
    }


def stable_autograder_zip(
    aid: str, otter_dir: Path, dest: Path, extra: dict[str, bytes] | None = None
) -> None:
    """Copy Otter's timestamped zip to a stable name, adding the grading runner at its root
    and the `extra` members (which replace Otter's of the same name)."""
    extra = extra or {}
    found = sorted((otter_dir / "autograder").glob("*-autograder_*.zip"))
    if len(found) != 1:
        raise ReleaseError(aid, f"expected one autograder zip from Otter, found {len(found)}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(found[0]) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            if info.filename.startswith(f"{PLUGIN_PACKAGE}/") or info.filename in extra:
                continue
            out = zipfile.ZipInfo(info.filename, ZIP_DATE)
            out.external_attr = info.external_attr or (0o644 << 16)
            if info.filename in ("run_autograder", "setup.sh"):
                out.external_attr = 0o755 << 16
            out.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(out, src.read(info.filename))
        for p in plugin_files():
            name = f"{PLUGIN_PACKAGE}/{p.relative_to(PLUGIN_DIR).as_posix()}"
            out = zipfile.ZipInfo(name, ZIP_DATE)
            out.external_attr = 0o644 << 16
            out.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(out, p.read_bytes())
        for name, data in sorted(extra.items()):
            out = zipfile.ZipInfo(name, ZIP_DATE)
            out.external_attr = (0o755 if name == "run_autograder" else 0o644) << 16
            out.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(out, data)


def zip_folder(folder: Path, dest: Path, prefix: str) -> None:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                info = zipfile.ZipInfo(f"{prefix}/{p.relative_to(folder).as_posix()}", ZIP_DATE)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, p.read_bytes())


def solutions_notebook(ag_nb: dict) -> dict:
    """Otter's autograder notebook without hidden tests or outputs: the published solutions."""
    nb = clean_notebook(ag_nb)
    tests = nb.get("metadata", {}).get("otter", {}).get("tests", {})
    for test in tests.values():
        for suite in test.get("suites", []):
            suite["cases"] = [c for c in suite.get("cases", []) if not c.get("hidden")]
    return nb
