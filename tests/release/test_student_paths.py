"""A student's first hour, on a laptop and on Colab, with the real course's handouts.

Laptop: the assignment page's commands in a fresh virtual environment made in the
unzipped student folder, the notebook executed with the reference answers filled
in, `grader.export`, and that export graded by the autograder zip through
`python -m diffcourse_staff.release grade` to full marks; the blank notebook grades to
zero with messages that name the question. What is not exercised: downloading
the packages. The fresh venv sees the staff environment's packages through a .pth
file and `pip install -r requirements.txt` runs with `--no-index`, so it proves
that the pins resolve (to the versions the reference is graded with) without
fetching them; the console script `jupyter-lab` is not created that way, so the
test runs `python -m jupyterlab --version` instead.

Colab: no test can reach Colab. The built notebook runs in a kernel where Otter's
Colab detection is on (the IPython shell's class looks like Colab's, and
`google.colab` is importable), in a folder holding only the notebook, with the
set-up cell's site URL pointed at a copy of the site served on 127.0.0.1. Its
pip install runs for real with `--no-index` against the staff environment.
What is not exercised: Colab's own Python and packages, and the real site host.

These tests take a minute or more each (a kernel, a grading); they are marked
`e2e`, which `make test` and CI run (they are not `slow`).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from student_paths import COURSE, answered, built, results, unzip_student

from diffcourse_staff.site.pages import download_uri

pytestmark = pytest.mark.e2e
LAPTOP_SET = "ps2"  # the quickest to execute and grade; every set shares the cells tested

# Makes Otter (otter.check.utils.IPythonInterpreter.COLAB: the shell's repr names
# google.colab) and the set-up cell ("google.colab" in sys.modules) see Colab.
FAKE_COLAB = """
import sys, types
_google = sys.modules.setdefault("google", types.ModuleType("google"))
_google.colab = sys.modules.setdefault("google.colab", types.ModuleType("google.colab"))
_ip = get_ipython()
_ip.__class__ = type("Shell", (type(_ip),), {"__module__": "google.colab._shell"})
"""


def _run(cmd, cwd, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PIP_NO_INDEX": "1"}
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def fresh_venv(folder: Path) -> Path:
    """A new venv in folder/.venv that sees the staff environment's packages; its python."""
    # Without its own pip and setuptools: ensurepip's old setuptools would shadow the
    # staff one that torch's metadata asks for; pip itself comes through the .pth file.
    _run([sys.executable, "-m", "venv", "--without-pip", ".venv"], folder)
    python = folder / ".venv" / "bin" / "python"
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], folder)
    staff = sysconfig.get_paths()["purelib"]
    (Path(site.stdout.strip()) / "staff-packages.pth").write_text(staff + "\n")
    return python


def grade(aid: str, submission: Path, out: Path) -> dict[str, dict]:
    zip_path = built(aid).autograder_zip
    cmd = [sys.executable, "-m", "diffcourse_staff.release", "grade", zip_path, submission]
    _run([*cmd, "--out", out], submission.parent)
    return results(out)


def scores(found: dict[str, dict]) -> tuple[float, float]:
    graded = [t for t in found.values() if "max_score" in t and t["max_score"] is not None]
    return sum(t["score"] for t in graded), sum(t["max_score"] for t in graded)


def test_laptop_path_from_the_zip_to_full_marks(tmp_path):
    folder = unzip_student(LAPTOP_SET, tmp_path)
    python = fresh_venv(folder)
    install = _run([python, "-m", "pip", "install", "-r", "requirements.txt"], folder)
    for package in ("torch==2.13.0", "jupyterlab==4.6.6", "ipykernel", "otter-grader==7.0.0"):
        assert package.split("==")[0] in install.stdout, f"{package} was not resolved"
    _run([python, "-m", "jupyterlab", "--version"], folder)

    notebook = folder / f"{LAPTOP_SET}.ipynb"
    answered(LAPTOP_SET, notebook)
    _run(
        [python, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
         "--ExecutePreprocessor.timeout=600", notebook.name],
        folder,
    )  # fmt: skip
    executed = nbformat.read(notebook, as_version=4)
    checks = [
        "".join(o.get("text", "")) + str(o.get("data", {}))
        for c in executed.cells
        if c.cell_type == "code" and "grader.check(" in c.source
        for o in c.outputs
    ]
    assert checks and all("passed" in out and "failed" not in out for out in checks), checks

    exports = sorted(folder.glob(f"{LAPTOP_SET}_*.zip"))
    assert len(exports) == 1, f"grader.export made {[p.name for p in exports]}"
    total, possible = scores(grade(LAPTOP_SET, exports[0], tmp_path / "graded"))
    assert possible > 0 and total == possible, f"the export scored {total}/{possible}"


def test_the_blank_notebook_grades_to_zero_with_messages_naming_each_question(tmp_path):
    folder = unzip_student(LAPTOP_SET, tmp_path)
    found = grade(LAPTOP_SET, folder / f"{LAPTOP_SET}.ipynb", tmp_path / "graded")
    total, possible = scores(found)
    assert possible > 0 and total == 0
    questions = [name for name, t in found.items() if t.get("max_score")]
    for q in questions:
        assert f"NotImplementedError: {q}: write " in found[q]["output"], found[q]["output"][-800:]


@pytest.fixture(scope="module")
def served_site(tmp_path_factory):
    """A copy of the site's downloads, served on 127.0.0.1; yields its base URL."""
    root = tmp_path_factory.mktemp("site")
    for a in COURSE.notebook_assignments:
        target = root / download_uri(a.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built(a.id).student_zip, target)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def on_colab(aid: str, folder: Path, site: str, answers: bool) -> nbformat.NotebookNode:
    """The built notebook alone in folder, run as on Colab against the served site."""
    notebook = folder / f"{aid}.ipynb"
    shutil.copy2(built(aid).student_dir / notebook.name, notebook)
    if answers:
        answered(aid, notebook)
    return on_colab_prepared(aid, folder, site)


def _text(cell) -> str:
    return "".join(o.get("text", "") + str(o.get("data", {})) for o in cell.outputs)


@pytest.mark.parametrize("aid", [a.id for a in COURSE.notebook_assignments])
def test_colab_set_up_cell_fetches_the_zip_and_otter_reads_the_public_tests(
    aid, served_site, tmp_path
):
    nb = nbformat.read(built(aid).student_notebook, as_version=4)
    first_check = next(
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "grader.check(" in c.source
    )
    notebook = tmp_path / f"{aid}.ipynb"
    shutil.copy2(built(aid).student_dir / notebook.name, notebook)
    nb.cells = nb.cells[: first_check + 1]  # up to the first public check, blank
    nbformat.write(nb, notebook)

    ran = on_colab_prepared(aid, tmp_path, served_site)
    shipped = {p.name for p in built(aid).student_dir.iterdir()} - {notebook.name}
    assert shipped <= {p.name for p in tmp_path.iterdir()}, "the set-up cell missed files"
    assert (tmp_path / "tests").is_dir()
    check = _text(ran.cells[-1])
    assert "Test case failed" in check and "NotImplementedError" in check, check[:2000]


def on_colab_prepared(aid: str, folder: Path, site: str) -> nbformat.NotebookNode:
    """Run folder/<aid>.ipynb (already written) as on Colab."""
    notebook = folder / f"{aid}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code" and "STUDENT_ZIP = " in c.source)
    published = COURSE.links["site"].rstrip("/") + "/"
    assert f'STUDENT_ZIP = "{published}{download_uri(aid)}"' in setup.source
    setup.source = setup.source.replace(published, site)
    nb.cells.insert(0, nbformat.v4.new_code_cell(FAKE_COLAB))
    os.environ["PIP_NO_INDEX"] = "1"
    try:
        NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        del os.environ["PIP_NO_INDEX"]
    return nb


def test_colab_whole_notebook_with_answers_passes_its_checks(served_site, tmp_path):
    nb = on_colab(LAPTOP_SET, tmp_path, served_site, answers=True)
    checks = [_text(c) for c in nb.cells if c.cell_type == "code" and "grader.check(" in c.source]
    assert checks and all("passed" in out and "failed" not in out for out in checks), checks
    assert "On Colab: File > Download" in _text(nb.cells[-1])  # no Otter export there
