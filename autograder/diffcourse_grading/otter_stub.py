"""A stand-in for Otter where a notebook's `import otter` runs during grading.

Student notebooks (and the reference built from the solutions) start with
`import otter; grader = otter.Notebook(...)` and call `grader.check(...)`.
While grading, those checks mean nothing (the grader runs the real tests), and
importing the real Otter costs about 3 s of CPU (nbformat's JSON schemas), so
the worker and the grader's copy of the reference both get this stub.

In the worker nothing else of Otter exists: a notebook that imports Otter's grading
machinery (`otter.test_files`, `otter.execute`, ...) to change its results is reported
as tampering (`report`), and the import fails as it would without Otter.
"""

from __future__ import annotations

import importlib.abc
import sys
import types


class _ReportSubmodules(importlib.abc.MetaPathFinder):
    def __init__(self, report):
        self.report = report

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith("otter."):
            self.report(f"tried to use Otter's grading machinery (import {fullname[:80]})")
        return None  # not found: ModuleNotFoundError


def otter_stub(report=None) -> types.ModuleType:
    """A stand-in for otter: `otter.Notebook(...)`, `grader.check` and `export` do nothing."""
    mod = types.ModuleType("otter")

    class _Result:
        def __repr__(self):
            return "(checks run by the autograder)"

    class Notebook:
        def __init__(self, *args, **kwargs):
            pass

        def check(self, *args, **kwargs):
            return _Result()

        def check_all(self, *args, **kwargs):
            return _Result()

        def export(self, *args, **kwargs):
            return None

        def __getattr__(self, name):
            return lambda *a, **k: None

    mod.Notebook = Notebook
    mod.__version__ = "7.0.0"
    if report is not None:
        mod.__path__ = []  # a package: `import otter.x` asks the finders (and is seen)
        sys.meta_path.insert(0, _ReportSubmodules(report))
    return mod
