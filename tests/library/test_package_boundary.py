"""The library students receive (`diffcourse`) never reaches into the staff tooling
(`diffcourse_staff`): not in its source, and not at import time."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import diffcourse

LIBRARY = Path(diffcourse.__file__).resolve().parent
STAFF = "diffcourse_staff"


def _imported_names(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_no_library_module_names_the_staff_package():
    offenders = []
    for path in sorted(LIBRARY.rglob("*.py")):
        source = path.read_text()
        names = list(_imported_names(ast.parse(source, filename=str(path))))
        if any(n == STAFF or n.startswith(STAFF + ".") for n in names):
            offenders.append(path.relative_to(LIBRARY).as_posix())
    assert offenders == [], f"library modules that name {STAFF}: {offenders}"


def test_importing_every_library_module_loads_no_staff_code():
    modules = [m.name for m in pkgutil.iter_modules([str(LIBRARY)])]
    assert {"samplers", "schedules", "train", "flow"} <= set(modules)  # the scan sees the library
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module('diffcourse.' + m)\n"
        f"bad = sorted(k for k in sys.modules if k == {STAFF!r} or k.startswith({STAFF!r} + '.'))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
