"""The one input-hash scheme of the staff tooling: the release and the figures both ask it.

A build step is redone when the hash of its inputs changes. Inputs are labelled
pieces of text, files, folders, Python functions (their source) and modules (their
file); each is fed to sha256 as `label NUL length NUL content`, so two different
lists of inputs never give the same stream. Which inputs a step has is the step's
business: the release lists its files (`release/build.py`), a figure lists the code it
actually runs (`site/figures.py`, with `code_deps`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tree_digests(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under root (or of root itself if a file)."""
    root = Path(root)
    if root.is_file():
        return {root.name: file_digest(root)}
    return {
        str(p.relative_to(root)): file_digest(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def module_file(name: str) -> Path | None:
    """The source file of an importable module, or None when there is none."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.has_location:
        return None
    return Path(spec.origin)


class Hasher:
    """Accumulates labelled inputs; `hexdigest()` is the key a stamp records."""

    def __init__(self):
        self._h = hashlib.sha256()

    def text(self, label: str, value: str) -> Hasher:
        self._h.update(f"{label}\0{len(value)}\0".encode())
        self._h.update(value.encode())
        return self

    def path(self, label: str, path: Path) -> Hasher:
        """A file's bytes, or every file of a folder by relative path; a missing one counts too."""
        path = Path(path)
        if not path.exists():
            return self.text(label, "(missing)")
        for rel, digest in tree_digests(path).items():
            self.text(f"{label}/{rel}", digest)
        return self

    def function(self, fn: Callable) -> Hasher:
        """A function's source text, labelled by where it is defined."""
        return self.text(f"function:{fn.__module__}.{fn.__qualname__}", inspect.getsource(fn))

    def module(self, name: str) -> Hasher:
        """A module's source file (a module that cannot be found counts as missing)."""
        origin = module_file(name)
        if origin is None:
            return self.text(f"module:{name}", "(missing)")
        return self.path(f"module:{name}", origin)

    def hexdigest(self) -> str:
        return self._h.hexdigest()
