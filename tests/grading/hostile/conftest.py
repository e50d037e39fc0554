"""Session fixtures of the hostile catalog: the built zips and the grading session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for p in (str(HERE), str(HERE.parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

from catalog_run import CatalogSession, build_dist  # noqa: E402


@pytest.fixture(scope="session")
def hostile_dist(tmp_path_factory):
    """ps1 and ps3 built once per session (no gates, with solutions) into a temp folder."""
    return build_dist(tmp_path_factory.mktemp("hostile-release"))


@pytest.fixture(scope="session")
def catalog_session(hostile_dist, tmp_path_factory):
    return CatalogSession(hostile_dist, tmp_path_factory.mktemp("hostile-runs"))
