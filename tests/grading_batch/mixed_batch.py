"""A mixed batch of fx1 submissions: every way a submission can end, one of each."""

from __future__ import annotations

import json
from pathlib import Path

# How each submission must end when the zip predates the isolated runner (Otter grades in
# the student's kernel; only the outer limits stop it): outcome and scores of q1, q2 (4 each).
EXPECTED_OTTER = {
    "reference": ("graded", {"q1": 4.0, "q2": 4.0}),
    "blank": ("graded", {"q1": 0.0, "q2": 0.0}),
    "buggy": ("graded", {"q1": 2.0, "q2": 4.0}),  # passes q1's public test, fails its hidden one
    "infinite_loop": ("timeout", {"q1": 0.0, "q2": 0.0}),
    "memory_bomb": ("memory", {"q1": 0.0, "q2": 0.0}),
    "os_exit": ("crashed", {"q1": 0.0, "q2": 0.0}),
}
# With the isolated runner the clean ones are graded alike; a hostile cell (placed after both
# answers) may be stopped by the runner itself, which then grades the rest (full marks), or
# end the run (not graded, a message on every question). Either way it is accounted for.
HOSTILE = ("infinite_loop", "memory_bomb", "os_exit")

# an infinite loop that swallows the plugin's per-cell timeout: only the outer limit stops it
HANG = """while True:
    try:
        while True:
            pass
    except BaseException:
        pass
"""
BOMB = "hog = bytearray(6 * 2**30)\n"
EXIT = "import os\n\nos._exit(3)\n"


def _cells(nb: dict) -> list[dict]:
    return nb["cells"]


def _src(cell: dict) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def _with_cell_after(nb: dict, contains: str, code: str) -> dict:
    cells = _cells(nb)
    i = next(i for i, c in enumerate(cells) if contains in _src(c))
    new = {"cell_type": "code", "metadata": {}, "source": code, "outputs": []}
    cells.insert(i + 1, new | {"execution_count": None})
    return nb


def write_batch(solution: Path, student: Path, dest: Path) -> dict[str, Path]:
    """Notebooks named <kind>.ipynb in dest, from fx1's solution and student notebooks."""
    dest.mkdir(parents=True, exist_ok=True)
    ref = json.loads(solution.read_text())
    blank = json.loads(student.read_text())

    def copy(nb):
        return json.loads(json.dumps(nb))

    buggy = copy(ref)
    for c in _cells(buggy):
        if "scaled_values = " in _src(c):
            c["source"] = _src(c).replace("* a", "* a + 1.0")
    books = {
        "reference": ref,
        "blank": blank,
        "buggy": buggy,
        "infinite_loop": _with_cell_after(copy(ref), "def read_total", HANG),
        "memory_bomb": _with_cell_after(copy(ref), "def read_total", BOMB),
        "os_exit": _with_cell_after(copy(ref), "def read_total", EXIT),
    }
    paths = {}
    for kind, nb in books.items():
        paths[kind] = dest / f"{kind}.ipynb"
        paths[kind].write_text(json.dumps(nb, indent=1))
    return paths
