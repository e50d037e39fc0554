"""Build one assignment: its inputs, then the declared build steps, then the gates.

    inputs       notebook, release.yml's vendored modules, shared cells, input hash
    BUILD_STEPS  stage the source -> otter assign -> autograder zip -> student handout
                 -> solutions (with --solutions)
    GATES        environment, runner, leaks, reference, blank (release/gates.py)

Every step takes one `BuildContext` (release/context.py). Where each output goes
is release/layout.py's to say; the stamps (release/stamps.py) skip the steps and
gates whose inputs have not changed.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.metadata
import json
import shutil
import time
from pathlib import Path

import yaml

from diffcourse_staff.course import Assignment, Course
from diffcourse_staff.release import authoring, public_tests, student_cells
from diffcourse_staff.release.config import (
    COLAB_REQUIREMENTS,
    GRADESCOPE_REQUIREMENTS,
    PLUGIN_DIR,
    STUDENT_REQUIREMENTS,
    merged_config,
)
from diffcourse_staff.release.context import BuildContext, BuildOptions, BuildResult
from diffcourse_staff.release.errors import ReleaseError
from diffcourse_staff.release.gates import run_gates
from diffcourse_staff.release.packaging import (
    check_vendored_imports,
    clean_notebook,
    copy_path,
    run_otter_assign,
    runner_members,
    solutions_notebook,
    stable_autograder_zip,
    vendor,
    write_notebook,
    zip_folder,
)
from diffcourse_staff.release.stamps import Hasher, StampFile

__all__ = ["BuildOptions", "BuildResult", "build_assignment", "notebook_path"]

RELEASE_DIR = Path(__file__).resolve().parent
RELEASE_YML_KEYS = {"vendor_modules"}


# -- inputs ---------------------------------------------------------------------------


def notebook_path(course: Course, assignment: Assignment) -> Path:
    """The notebook Otter reads, generated from the set's text (release/authoring.py)."""
    return authoring.notebook_path(course, assignment)


def read_release_yml(aid: str, folder: Path, vendor_source: Path) -> list[str]:
    """The vendored diffcourse modules named in <folder>/release.yml (none without the file)."""
    path = folder / "release.yml"
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ReleaseError(aid, f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ReleaseError(aid, f"{path}: expected a mapping with vendor_modules:")
    unknown = sorted(set(data) - RELEASE_YML_KEYS)
    if unknown:
        raise ReleaseError(aid, f"{path}: unknown key(s) {unknown} (allowed: vendor_modules)")
    modules = data.get("vendor_modules") or []
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        raise ReleaseError(aid, f"{path}: vendor_modules must be a list of module names")
    for m in modules:
        if m in ("checkpoints", "release", "site", "course") or "." in m or "/" in m:
            raise ReleaseError(aid, f"{path}: '{m}' cannot be vendored (library modules only)")
        if not (vendor_source / f"{m}.py").is_file() and not (vendor_source / m).is_dir():
            raise ReleaseError(aid, f"{path}: no module diffcourse.{m} in {vendor_source}")
    return modules


def _source_config_files(nb_path: Path) -> list[str]:
    """The `files:` of the ASSIGNMENT CONFIG, read cheaply (for the input hash)."""
    from diffcourse_staff.release.notebook import read_source_notebook

    try:
        src = read_source_notebook(nb_path)
    except (OSError, ValueError):
        return []
    files = (src.config or {}).get("files") or []
    return [str(f) for f in files] if isinstance(files, list) else []


def input_hash(
    assignment: Assignment, nb_path: Path, modules: list[str], opts, shared_cells: str = ""
) -> str:
    h = Hasher()
    h.text("assignment", repr(assignment))
    h.text("shared-cells", shared_cells)
    h.path("notebook", nb_path)
    h.path("release.yml", nb_path.parent / "release.yml")
    for f in _source_config_files(nb_path):
        h.path(f"file:{f}", nb_path.parent / f)
    for m in modules:
        src = opts.vendor_source / f"{m}.py"
        h.path(f"vendor:{m}", src if src.exists() else opts.vendor_source / m)
    if modules:
        h.path("vendor:checkpoints", opts.vendor_source / "checkpoints")
    h.path("release-package", RELEASE_DIR)
    h.path("plugin", PLUGIN_DIR)
    h.path("student-requirements", STUDENT_REQUIREMENTS)
    h.path("colab-requirements", COLAB_REQUIREMENTS)
    h.path("gradescope-requirements", GRADESCOPE_REQUIREMENTS)
    h.text("otter", importlib.metadata.version("otter-grader"))
    h.text("options", f"solutions={opts.solutions}")
    return h.hexdigest()


def shared_cells(course: Course, assignment: Assignment) -> list[dict]:
    """The set-up cell (first) and the Submitting section (the rest) of every notebook."""
    import nbformat

    return [
        nbformat.v4.new_code_cell(student_cells.setup_cell_source(course, assignment)),
        nbformat.v4.new_markdown_cell(student_cells.submitting_markdown(course, assignment)),
        nbformat.v4.new_code_cell(student_cells.submitting_code_source()),
    ]


def _with_shared_cells(nb: dict, src, shared: list[dict]) -> dict:
    """The notebook with the set-up cell before the Otter init cell, Submitting at the end."""
    init = f'otter.Notebook("{src.path.name}")'
    cells = nb["cells"]
    at = next(
        i
        for i, c in enumerate(cells)
        if c.get("cell_type") == "code" and init in "".join(c.get("source", ""))
    )
    setup, *submitting = (copy.deepcopy(c) for c in shared)
    nb["cells"] = cells[:at] + [setup] + cells[at:] + submitting
    return nb


# -- the build steps ---------------------------------------------------------------------


def stage_source(ctx: BuildContext) -> None:
    """build/<id>/src: the notebook with its merged config and shared cells, its support
    files, the vendored library modules and Gradescope's requirements."""
    src, p = ctx.source, ctx.paths
    for d in p.rebuilt_dirs:
        if d.exists():
            shutil.rmtree(d)
    p.stage_dir.mkdir(parents=True)
    ctx.files = [str(f) for f in (src.config or {}).get("files") or []]
    for f in ctx.files:
        copy_path(ctx.notebook.parent / f, p.stage_dir / f)
    if ctx.modules:
        vendored = p.stage_dir / "diffcourse"
        vendor(ctx.modules, Path(ctx.options.vendor_source), vendored)
        check_vendored_imports(ctx.aid, ctx.modules, vendored)
        ctx.files.append("diffcourse")
    shutil.copy2(GRADESCOPE_REQUIREMENTS, p.stage_dir / "requirements.txt")
    nb = clean_notebook(authoring.unstamped(src.nb))
    cfg = merged_config(src.config or {}, ctx.assignment, ctx.files)
    config_cell = nb["cells"][src.config_cell]
    config_cell["source"] = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(cfg, sort_keys=False)
    nb = _with_shared_cells(nb, src, ctx.shared)
    write_notebook(nb, p.stage_dir / p.notebook_name)


def otter_assign(ctx: BuildContext) -> None:
    """build/<id>/otter: Otter's student and autograder versions of the staged notebook."""
    t = time.monotonic()
    run_otter_assign(ctx.aid, ctx.paths.stage_dir / ctx.paths.notebook_name, ctx.paths.otter_dir)
    ctx.log(f"otter assign ({time.monotonic() - t:.1f} s)")


def autograder_zip(ctx: BuildContext) -> None:
    """dist/<id>/<id>-autograder.zip: Otter's zip under a stable name, with the runner."""
    ctx.paths.dist.mkdir(parents=True)
    stable_autograder_zip(
        ctx.aid,
        ctx.paths.otter_dir,
        ctx.paths.autograder_zip,
        runner_members(ctx.assignment, ctx.source),
    )


def student_handout(ctx: BuildContext) -> None:
    """dist/<id>/student/ and its zip: the clean notebook, public tests, support files and
    the student requirements."""
    p = ctx.paths
    shutil.copytree(p.otter_student_dir, p.student_dir)
    public_tests.convert_folder(ctx.aid, p.student_dir / "tests")  # grader.check stops at a failure
    nb = json.loads(p.student_notebook.read_text(encoding="utf-8"))
    write_notebook(clean_notebook(nb), p.student_notebook)
    shutil.copy2(STUDENT_REQUIREMENTS, p.student_dir / "requirements.txt")
    shutil.copy2(COLAB_REQUIREMENTS, p.student_dir / student_cells.COLAB_REQUIREMENTS)
    zip_folder(p.student_dir, p.student_zip, p.student_zip_prefix)


def solutions(ctx: BuildContext) -> None:
    """dist/<id>/solutions/ (with --solutions): answers and public tests, no hidden test."""
    if not ctx.options.solutions:
        return
    p = ctx.paths
    ag_nb = json.loads(p.otter_autograder_notebook.read_text(encoding="utf-8"))
    write_notebook(solutions_notebook(ag_nb), p.solutions_dir / p.notebook_name)
    for f in ctx.files:
        copy_path(p.stage_dir / f, p.solutions_dir / f)
    if dt.datetime.now() < ctx.assignment.due:
        ctx.log(
            f"note: solutions built in {p.solutions_dir} before the due date "
            f"({ctx.assignment.due:%Y-%m-%d %H:%M}): do not publish them yet"
        )


BUILD_STEPS = (stage_source, otter_assign, autograder_zip, student_handout, solutions)


# -- the build ---------------------------------------------------------------------------


def build_context(course: Course, assignment: Assignment, opts: BuildOptions) -> BuildContext:
    """Read an assignment's inputs and hash them; nothing is built yet."""
    aid = assignment.id
    if not assignment.is_notebook:
        raise ReleaseError(aid, "not a notebook assignment (no notebook in course.yml)")
    nb_path = notebook_path(course, assignment)
    if not nb_path.is_file():
        raise ReleaseError(aid, f"no source text {authoring.source_path(course, assignment)}")
    paths = opts.layout.set(assignment)
    modules = read_release_yml(aid, nb_path.parent, Path(opts.vendor_source))
    shared = shared_cells(course, assignment)
    key = input_hash(assignment, nb_path, modules, opts, "\n".join(c["source"] for c in shared))
    return BuildContext(
        course=course,
        assignment=assignment,
        options=opts,
        notebook=nb_path,
        paths=paths,
        modules=modules,
        shared=shared,
        key=key,
        stamps=StampFile(paths.stamps),
        result=BuildResult(aid, rebuilt=False),
    )


def build_assignment(course: Course, assignment: Assignment, opts: BuildOptions) -> BuildResult:
    """Build (if inputs changed) and prove (unless --no-gates) one notebook assignment."""
    t0 = time.monotonic()
    ctx = build_context(course, assignment, opts)
    if opts.force or not ctx.stamps.build_current(ctx.key, ctx.paths.dist):
        ctx.result.rebuilt = True
        for step in BUILD_STEPS:
            step(ctx)
        ctx.stamps.record_build(ctx.key, ctx.paths.dist)
        ctx.log(f"built {ctx.paths.dist}")
    else:
        ctx.log("up to date")
    if opts.gates:
        run_gates(ctx)
    if ctx.paths.grading_report.exists():
        ctx.result.report = json.loads(ctx.paths.grading_report.read_text(encoding="utf-8"))
    ctx.result.seconds = time.monotonic() - t0
    return ctx.result
