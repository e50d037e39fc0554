"""Build one assignment (or the course): lint, otter assign, student folder, zips, gates.

Layout (dist/ is what ships, build/ keeps Otter's raw output and the stamps):

    dist/<id>/student/               notebook, support files, requirements.txt
    dist/<id>/<id>-student.zip       the same folder, zipped
    dist/<id>/<id>-autograder.zip    for Gradescope (stable name; holds the hidden tests)
    dist/<id>/grading-report.json    gate a's measurements and the Gradescope settings
    dist/<id>/solutions/             only with --solutions (publish after the due date)
    build/<id>/src/                  the notebook as Otter sees it (merged config)
    build/<id>/otter/                Otter's own output (never shipped)
    build/<id>/grading/              results of gates a and b
    build/<id>/stamps.json           the incremental-build stamps
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import diffcourse
from diffcourse_staff.course import REPO_ROOT, Assignment, Course
from diffcourse_staff.release import authoring, gates, student_cells
from diffcourse_staff.release.config import (
    COLAB_REQUIREMENTS,
    GRADESCOPE_REQUIREMENTS,
    GRADING_CONFIG,
    PLUGIN_DIR,
    PLUGIN_PACKAGE,
    RUN_AUTOGRADER,
    STUDENT_REQUIREMENTS,
    grading_config,
    merged_config,
    plugin_files,
)
from diffcourse_staff.release.errors import ReleaseError
from diffcourse_staff.release.grade import DEFAULT_GUARD_SECONDS, grade_submission
from diffcourse_staff.release.stamps import Hasher, StampFile

RELEASE_DIR = Path(__file__).resolve().parent
PACKAGE_DIR = Path(diffcourse.__file__).resolve().parent
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed member dates: same inputs, same zip bytes
RELEASE_YML_KEYS = {"vendor_modules"}


@dataclass
class BuildOptions:
    dist: Path = REPO_ROOT / "dist"
    build: Path = REPO_ROOT / "build"
    gates: bool = True
    solutions: bool = False
    force: bool = False
    guard_seconds: float = DEFAULT_GUARD_SECONDS
    vendor_source: Path = PACKAGE_DIR  # where vendored diffcourse modules are copied from
    log: object = print


@dataclass
class BuildResult:
    assignment: str
    rebuilt: bool
    gates_run: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    report: dict | None = None
    seconds: float = 0.0


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


# -- steps ----------------------------------------------------------------------------


def _clean_notebook(nb: dict) -> dict:
    """A copy without outputs or execution counts."""
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def _write_notebook(nb: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _copy(src: Path, dst: Path) -> None:
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
        _copy(src if src.exists() else source / m, dest / (src.name if src.exists() else m))
    if (source / "checkpoints").is_dir():
        _copy(source / "checkpoints", dest / "checkpoints")


def check_vendored_imports(aid: str, modules: list[str], dest: Path) -> None:
    """A vendored module may import only other vendored modules of diffcourse."""
    import ast

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
    nb = _clean_notebook(ag_nb)
    tests = nb.get("metadata", {}).get("otter", {}).get("tests", {})
    for test in tests.values():
        for suite in test.get("suites", []):
            suite["cases"] = [c for c in suite.get("cases", []) if not c.get("hidden")]
    return nb


# -- the build ------------------------------------------------------------------------


def build_assignment(course: Course, assignment: Assignment, opts: BuildOptions) -> BuildResult:
    """Build (if inputs changed) and prove (unless --no-gates) one notebook assignment."""
    from diffcourse_staff.release.lint import lint_notebook

    t0 = time.monotonic()
    aid, log = assignment.id, opts.log
    if not assignment.is_notebook:
        raise ReleaseError(aid, "not a notebook assignment (no notebook in course.yml)")
    nb_path = notebook_path(course, assignment)
    if not nb_path.is_file():
        raise ReleaseError(aid, f"no source text {authoring.source_path(course, assignment)}")
    dist_dir, build_dir = Path(opts.dist) / aid, Path(opts.build) / aid
    modules = read_release_yml(aid, nb_path.parent, Path(opts.vendor_source))
    shared = shared_cells(course, assignment)
    key = input_hash(assignment, nb_path, modules, opts, "\n".join(c["source"] for c in shared))
    stamps = StampFile(build_dir / "stamps.json")
    result = BuildResult(aid, rebuilt=False)

    src = None
    if opts.force or not stamps.build_current(key, dist_dir):
        result.rebuilt = True
        src, result.warnings = lint_notebook(nb_path, assignment, modules)
        for w in result.warnings:
            log(f"{aid}: warning: {w}")
        log(f"{aid}: lint ok ({len(src.questions)} questions)")
        _build(aid, assignment, src, nb_path, modules, dist_dir, build_dir, opts, shared)
        stamps.record_build(key, dist_dir)
        log(f"{aid}: built {dist_dir}")
    else:
        log(f"{aid}: up to date")

    if opts.gates:
        failed = dist_dir / "GATES-FAILED.txt"
        try:
            result.gates_run = _run_gates(
                aid, assignment, src, nb_path, modules, dist_dir, build_dir, stamps, key, opts
            )
        except ReleaseError as e:
            failed.write_text(f"Do not upload or publish this build. {e}\n", encoding="utf-8")
            raise
        failed.unlink(missing_ok=True)
        stamps.refresh_outputs(dist_dir)
    report = dist_dir / "grading-report.json"
    if report.exists():
        result.report = json.loads(report.read_text(encoding="utf-8"))
    result.seconds = time.monotonic() - t0
    return result


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


def _build(aid, assignment, src, nb_path, modules, dist_dir, build_dir, opts, shared) -> None:
    log = opts.log
    for d in (dist_dir, build_dir / "src", build_dir / "otter", build_dir / "grading"):
        if d.exists():
            shutil.rmtree(d)
    stage = build_dir / "src"
    stage.mkdir(parents=True)
    files = [str(f) for f in (src.config or {}).get("files") or []]
    for f in files:
        _copy(nb_path.parent / f, stage / f)
    if modules:
        vendor(modules, Path(opts.vendor_source), stage / "diffcourse")
        check_vendored_imports(aid, modules, stage / "diffcourse")
        files.append("diffcourse")
    shutil.copy2(GRADESCOPE_REQUIREMENTS, stage / "requirements.txt")
    nb = _clean_notebook(authoring.unstamped(src.nb))
    cfg = merged_config(src.config or {}, assignment, files)
    config_cell = nb["cells"][src.config_cell]
    config_cell["source"] = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(cfg, sort_keys=False)
    nb = _with_shared_cells(nb, src, shared)
    _write_notebook(nb, stage / nb_path.name)

    t = time.monotonic()
    run_otter_assign(aid, stage / nb_path.name, build_dir / "otter")
    log(f"{aid}: otter assign ({time.monotonic() - t:.1f} s)")

    dist_dir.mkdir(parents=True)
    stable_autograder_zip(
        aid,
        build_dir / "otter",
        dist_dir / f"{aid}-autograder.zip",
        runner_members(assignment, src),
    )
    student = dist_dir / "student"
    shutil.copytree(build_dir / "otter" / "student", student)
    student_nb = student / nb_path.name
    _write_notebook(_clean_notebook(json.loads(student_nb.read_text(encoding="utf-8"))), student_nb)
    shutil.copy2(STUDENT_REQUIREMENTS, student / "requirements.txt")
    shutil.copy2(COLAB_REQUIREMENTS, student / student_cells.COLAB_REQUIREMENTS)
    zip_folder(student, dist_dir / f"{aid}-student.zip", aid)

    if opts.solutions:
        sol = dist_dir / "solutions"
        ag_nb = json.loads((build_dir / "otter" / "autograder" / nb_path.name).read_text("utf-8"))
        _write_notebook(solutions_notebook(ag_nb), sol / nb_path.name)
        for f in files:
            _copy(stage / f, sol / f)
        if dt.datetime.now() < assignment.due:
            log(
                f"{aid}: note: solutions built in {sol} before the due date "
                f"({assignment.due:%Y-%m-%d %H:%M}): do not publish them yet"
            )


def _run_gates(aid, assignment, src, nb_path, modules, dist_dir, build_dir, stamps, key, opts):
    from diffcourse_staff.release.lint import lint_notebook

    log, ran = opts.log, []
    zip_path = dist_dir / f"{aid}-autograder.zip"
    report_path = dist_dir / "grading-report.json"

    def pending(gate: str) -> bool:
        if gate == "a" and not report_path.exists():
            return True
        return opts.force or not stamps.gate_passed(gate, key)

    if src is None and any(pending(g) for g in "abc"):
        src, _ = lint_notebook(nb_path, assignment, modules)

    if pending("d"):
        gates.gate_environment(aid, zip_path)
        stamps.record_gate("d", key)
        ran.append("d")
        log(f"{aid}: gate d ok (CPU torch pinned in the zip's environment)")
    if pending("e"):
        gates.gate_plugin(aid, zip_path, assignment)
        stamps.record_gate("e", key)
        ran.append("e")
        log(f"{aid}: gate e ok (grading runner, reference and limits in the zip)")
    if pending("c"):
        ag_nb = build_dir / "otter" / "autograder" / nb_path.name
        forbidden = {zip_path.read_bytes(): "the autograder zip"}
        if ag_nb.exists():
            forbidden[ag_nb.read_bytes()] = "Otter's autograder notebook"
        vendor_dir = dist_dir / "student" / "diffcourse" if modules else None
        # This assignment's handout only. The site is scanned as a whole by `check-site`
        # once it is rebuilt (make site): the one on disk now predates this build, and it
        # holds other assignments' handouts, which their own rules judge.
        roots = [dist_dir / "student", dist_dir / f"{aid}-student.zip"]
        gates.gate_leaks(
            aid,
            src,
            roots,
            vendor_dir,
            forbidden,
        )
        stamps.record_gate("c", key)
        ran.append("c")
        log(f"{aid}: gate c ok (no leak in the student folder and zip)")
    if pending("a"):
        ref_nb = build_dir / "otter" / "autograder" / nb_path.name
        outcome = grade_submission(
            ref_nb, zip_path, build_dir / "grading" / "reference", opts.guard_seconds
        )
        gates.gate_reference(aid, src, outcome)
        report = {
            "assignment": aid,
            "autograder_zip": zip_path.name,
            "graded_at": dt.datetime.now().isoformat(timespec="seconds"),
            "reference": {
                "total": outcome.total,
                "possible": outcome.possible,
                "questions": {
                    q: {"score": s, "possible": p} for q, (s, p) in outcome.scores.items()
                },
                "wall_s": round(outcome.wall_s, 2),
                "cpu_s": round(outcome.cpu_s, 2),
                "peak_rss_mb": round(outcome.peak_rss_mb, 1),
                "peak_anon_mb": (
                    None if outcome.peak_anon_mb is None else round(outcome.peak_anon_mb, 1)
                ),
                "peak_pss_mb": (
                    None if outcome.peak_pss_mb is None else round(outcome.peak_pss_mb, 1)
                ),
                "flags": (outcome.plugin or {}).get("findings", []),
                "sandbox": (outcome.plugin or {}).get("sandbox", {}),
            },
            "cell_timeout_s": assignment.cell_timeout,
            "limits": grading_config(assignment, [])["limits"],
            "targets": {"peak_pss_mb": gates.MEMORY_TARGET_MB, "cpu_s": gates.CPU_TARGET_S},
            "gradescope": gates.recommended_settings(outcome, assignment),
            "measured_on": f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}",
        }
        report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        stamps.record_gate("a", key)
        ran.append("a")
        log(
            f"{aid}: gate a ok (reference {outcome.total:g}/{outcome.possible:g}; "
            f"{outcome.wall_s:.1f} s wall, {outcome.cpu_s:.1f} s CPU, "
            f"{outcome.peak_pss_mb or outcome.peak_rss_mb:.0f} MB peak)"
        )
    if pending("b"):
        outcome = grade_submission(
            dist_dir / "student" / nb_path.name,
            zip_path,
            build_dir / "grading" / "student",
            opts.guard_seconds,
        )
        gates.gate_blank_student(aid, src, outcome)
        stamps.record_gate("b", key)
        ran.append("b")
        log(f"{aid}: gate b ok (untouched notebook scores 0 on every question and test case)")
    return ran
