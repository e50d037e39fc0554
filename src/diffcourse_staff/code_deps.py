"""Which code a function actually runs, found by reading its source.

The figures are keyed by this (see `site/figures.py`): a figure is remade when a
function it calls, or a library module it imports, changes, and not when some other
helper of the gallery does. Two kinds of dependency are followed:

- functions (and classes, and plain constants) of the *local* package that the
  function names, directly or through a module of that package, followed to
  whatever they name in turn;
- modules of the *library* package that any of that code imports, or whose objects
  it names, followed through the library's own imports (a module's behaviour
  depends on what it imports), with the packages that hold them (their __init__ runs).

Names are resolved in the defining module's globals, so dependencies are found
whether imported at the top of a module or inside a function. Code reached
dynamically (getattr with a computed name, eval) is not seen: the gallery does not
do that.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
import textwrap
import types
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from diffcourse_staff.input_hash import module_file

_CONSTANTS = (bool, int, float, complex, str, bytes, tuple, list, dict, frozenset, set)


@dataclass(frozen=True)
class CodeDeps:
    code: tuple  # local functions and classes, the start included, ordered by qualified name
    constants: tuple[tuple[str, str], ...]  # (module.name, repr) of local module-level data
    modules: tuple[str, ...]  # library modules, transitively, sorted


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _imports(tree: ast.AST, package: str | None) -> list[tuple[str, tuple[str, ...]]]:
    """(module, names imported from it) of every import statement in tree (nested too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = importlib.util.resolve_name("." * node.level + base, package)
            found.append((base, tuple(alias.name for alias in node.names)))
    return found


@cache
def _is_module(name: str) -> bool:
    """Whether name is an importable module (without importing it: only its parent package)."""
    parent = name.rpartition(".")[0]
    try:
        if parent:
            spec = importlib.util.find_spec(parent)
            if spec is None or spec.submodule_search_locations is None:
                return False  # the parent is a plain module: name is an attribute of it
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@cache
def _module_imports(origin: Path, stamp: tuple[int, int], package: str) -> tuple:
    """The imports of one source file, parsed once per version of the file (stamp)."""
    return tuple(_imports(ast.parse(origin.read_text(encoding="utf-8")), package))


def _library_closure(modules: set[str], library: str) -> set[str]:
    """modules, their packages (an import runs their __init__) and every library module
    they import, at any depth."""
    todo, seen = list(modules), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parent = name.rpartition(".")[0]
        if parent and _under(parent, library):
            todo.append(parent)
        origin = module_file(name)
        if origin is None or origin.suffix != ".py":
            continue
        package = name if origin.name == "__init__.py" else name.rpartition(".")[0]
        stat = origin.stat()
        for base, names in _module_imports(origin, (stat.st_mtime_ns, stat.st_size), package):
            if not _under(base, library):
                continue  # never look into other packages (that would import them)
            for sub in names or [""]:
                full = f"{base}.{sub}" if sub and _is_module(f"{base}.{sub}") else base
                if full not in seen:
                    todo.append(full)
    return seen


def code_deps(start, local: str, library: str) -> CodeDeps:
    """The code `start` runs: local functions/classes/constants and library modules."""
    code: dict[str, object] = {}
    constants: dict[str, str] = {}
    modules: set[str] = set()
    todo = [start]

    def visit(value, where: str) -> None:
        """Record one object a piece of code refers to."""
        if isinstance(value, types.ModuleType):
            if _under(value.__name__, library):
                modules.add(value.__name__)
            return
        owner = getattr(value, "__module__", None) if callable(value) else None
        if owner and _under(owner, local) and (inspect.isfunction(value) or inspect.isclass(value)):
            todo.append(value)
        elif owner and _under(owner, library):
            modules.add(owner)
        elif _under(where, local) and isinstance(value, _CONSTANTS):
            constants[where] = repr(value)

    while todo:
        obj = todo.pop()
        key = f"{obj.__module__}.{obj.__qualname__}"
        if key in code:
            continue
        code[key] = obj
        namespace = vars(sys.modules[obj.__module__])
        package = obj.__module__.rpartition(".")[0]
        tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
        for base, names in _imports(tree, package):
            if not (_under(base, library) or _under(base, local)):
                continue  # other packages are not followed (looking would import them)
            for sub in names or [""]:
                full = f"{base}.{sub}" if sub and _is_module(f"{base}.{sub}") else base
                if _under(full, library):
                    modules.add(full)  # recorded without importing it
                elif sub and full == base and _under(base, local):
                    visit(getattr(importlib.import_module(base), sub), f"{base}.{sub}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in namespace:
                visit(namespace[node.id], f"{obj.__module__}.{node.id}")
            if (  # an attribute of a local module: module.name
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and isinstance(namespace.get(node.value.id), types.ModuleType)
                and _under(namespace[node.value.id].__name__, local)
                and hasattr(namespace[node.value.id], node.attr)
            ):
                mod = namespace[node.value.id]
                visit(getattr(mod, node.attr), f"{mod.__name__}.{node.attr}")
    return CodeDeps(
        code=tuple(code[k] for k in sorted(code)),
        constants=tuple(sorted(constants.items())),
        modules=tuple(sorted(_library_closure(modules, library))),
    )
