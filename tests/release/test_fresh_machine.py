"""The repository sets up anywhere: no tracked file names a folder of a development machine.

A clone in another folder, on a machine that never had this checkout, must build
(`make release`) and test green. Absolute paths of the machine the course was
written on (a home folder, a scratch workspace) are what breaks that first.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from diffcourse_staff.course import REPO_ROOT

# Folders that exist on one person's machine only. /tmp and /usr are fine: they are
# the same everywhere, and so is /root/miniforge3/, where Otter's setup.sh installs
# Miniforge on every Gradescope image (a contract of Gradescope's layout, like /autograder).
# The folder this checkout sits in, derived at run time (a scratch workspace on the
# development machine, a CI runner's folder elsewhere), plus the home folders of any machine.
CHECKOUT_PARENT = REPO_ROOT.resolve().parent
_PARENT = (
    re.escape(str(CHECKOUT_PARENT).rstrip("/")) + "/"
    if CHECKOUT_PARENT.parent != CHECKOUT_PARENT
    else ""
)
MACHINE_FOLDER = re.compile(
    r"(?<![\w.~-])("
    + (_PARENT + "|" if _PARENT and not _PARENT.startswith(("/tmp", "/usr")) else "")
    + r"/root/(?!miniforge3/)|/home/[A-Za-z_][\w.-]*/|/Users/[\w.-]+/|[A-Za-z]:\\Users\\)"
)


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout
    return [name for name in out.decode().split("\0") if name]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("cd /home/ada/shared/notes", True),
        ("-e /root/checkout", True),
        ("cd /home/ada/course", True),
        ("open /Users/ada/ps1.ipynb", True),
        (r"C:\Users\ada\ps1", True),
        ("/root/.cache/pip", True),
        ("export PATH=/root/miniforge3/bin:$PATH", False),
        ("python -m x --out /tmp/graded", False),
        # the checkout's own parent folder inside a URL or a word is not a machine folder
        (f"https://example.org{CHECKOUT_PARENT}/today", False),
        (f"a framework{CHECKOUT_PARENT}/flow", False),
    ],
)
def test_the_pattern_tells_machine_folders_from_portable_paths(text, found):
    assert bool(MACHINE_FOLDER.search(text)) is found


def test_no_tracked_file_names_a_folder_of_the_development_machine():
    this_file = Path(__file__).resolve()
    problems = []
    for name in tracked_files():
        path = REPO_ROOT / name
        if not path.is_file() or path.resolve() == this_file:  # its examples are on purpose
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary (a checkpoint, an image)
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if MACHINE_FOLDER.search(line):
                problems.append(f"{name}:{number}: {line.strip()[:120]}")
    assert not problems, "absolute paths of one machine in tracked files:\n" + "\n".join(problems)


def test_the_environment_lock_installs_the_project_from_the_checkout_it_is_in():
    lock = (REPO_ROOT / "requirements" / "dev.lock").read_text(encoding="utf-8")
    for number, line in enumerate(lock.splitlines(), 1):
        stripped = line.split("#", 1)[0].strip()
        assert not stripped.startswith(("-e", "--editable", "file:", "/")), (
            f"requirements/dev.lock:{number} installs from a path ({stripped}); the Makefile "
            "installs the project itself with `pip install -e .`"
        )
        assert "@ file:" not in stripped, f"requirements/dev.lock:{number}: {stripped}"
