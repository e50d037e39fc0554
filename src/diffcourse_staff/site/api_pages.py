"""The `{{ api diffcourse.MODULE }}` tag: a library module's public API from its docstrings."""

from __future__ import annotations

import importlib
import inspect

from diffcourse_staff.site.page_context import (
    MacroError,
    PageContext,
    escape_cell,
)


def _first_paragraphs(doc: str | None) -> str:
    return inspect.cleandoc(doc) if doc else "(no docstring)"


def _signature(obj) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def api(ctx: PageContext, module_name: str, *only: str) -> str:
    """The public functions and classes of a library module, from its docstrings.

    Public means the names given after the module, or else those listed in the module's
    __all__, or else those defined in the module under a name without a leading
    underscore. The page is regenerated on every build, so it cannot drift from the code.
    """
    if not module_name.startswith("diffcourse."):
        raise MacroError(f"api: {module_name!r} is not a module of the course library")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise MacroError(f"api: cannot import {module_name}: {e}") from None
    names = list(only) or getattr(module, "__all__", None)
    missing = [n for n in names or () if not hasattr(module, n)]
    if missing:
        raise MacroError(f"api: {module_name} has no {', '.join(missing)}")
    if names is None:
        names = [
            n
            for n, obj in vars(module).items()
            if not n.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and getattr(obj, "__module__", None) == module_name
        ]
    parts = [f"`{module_name}`: {_first_paragraphs(module.__doc__).splitlines()[0]}", ""]
    for name in names:
        obj = getattr(module, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        kind = "class" if inspect.isclass(obj) else "def"
        parts += [
            f"#### `{module_name.split('.', 1)[1]}.{name}`",
            "",
            "```python",
            f"{kind} {name}{_signature(obj)}",
            "```",
            "",
            "```text",
            _first_paragraphs(obj.__doc__),
            "```",
            "",
        ]
        if inspect.isclass(obj):
            methods = [
                (m, f)
                for m, f in vars(obj).items()
                if not m.startswith("_") and inspect.isfunction(f) and f.__doc__
            ]
            for m, f in methods:
                first = inspect.cleandoc(f.__doc__).splitlines()[0]
                parts.append(f"- `{m}{_signature(f)}`: {escape_cell(first)}")
            if methods:
                parts.append("")
    return "\n".join(parts)
