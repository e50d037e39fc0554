"""Helpers of the mini-project tests: copy a starter (or the worked example) and run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from diffcourse_staff.projects.starter import copy_starter


def run_make(folder: Path, target: str = "reproduce", timeout: float = 300):
    """`make TARGET` in folder with this interpreter as the project's python."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        ["make", target, f"PY={sys.executable}"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def edit_yaml(path: Path, **changes) -> None:
    data = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split("__")
        for p in parents:
            node = node[p]
        node[leaf] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def starter(tmp_path):
    def make(track: str) -> Path:
        return copy_starter(track, tmp_path / track)

    return make
