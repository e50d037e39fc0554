"""Fixtures for the grade-all tests: the release tests' tiny fx1 assignment, built once.

fx1 needs only numpy, so one grading takes seconds; its autograder zip is built
by the real release pipeline (without gates) into a session folder.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from mixed_batch import write_batch  # noqa: E402


def _release_fixtures():
    """tests/release/conftest.py under its own name (two modules called conftest would clash)."""
    spec = importlib.util.spec_from_file_location(
        "release_fixtures", HERE.parent / "release" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def fx1(tmp_path_factory):
    """(autograder zip, solution notebook, student notebook) of fx1."""
    fc = _release_fixtures().FixtureCourse(tmp_path_factory.mktemp("fx1-course"))
    fc.build_one("fx1", gates=False, solutions=True)
    dist = fc.dist / "fx1"
    return (
        dist / "fx1-autograder.zip",
        dist / "solutions" / "fx1.ipynb",
        dist / "student" / "fx1.ipynb",
    )


@pytest.fixture(scope="session")
def mixed_batch(fx1, tmp_path_factory):
    _, solution, student = fx1
    return write_batch(solution, student, tmp_path_factory.mktemp("mixed"))
