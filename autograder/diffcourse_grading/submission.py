"""Read a submission (a notebook, an Otter export zip, or a folder) into its code cells.

Whatever arrives, the result is either the list of code cells or a
SubmissionError whose message tells the student what was wrong: not a
notebook, an empty or undecodable file, a zip without a notebook, a file over
the size limit. Text is decoded as UTF-8 (with or without a byte-order mark),
UTF-16 (with one), and as Latin-1 when neither works.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

MAX_NOTEBOOK_MB = 100
MAX_ZIP_MEMBERS = 2000


class SubmissionError(Exception):
    """The submission cannot be graded; the message is for the student."""


def decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def cells_from_json(data: bytes, where: str) -> list[str]:
    """The code cells of a notebook file's bytes."""
    if not data.strip():
        raise SubmissionError(f"{where} is empty: submit the .ipynb file of your notebook")
    try:
        nb = json.loads(decode_text(data))
    except (json.JSONDecodeError, RecursionError):
        raise SubmissionError(
            f"{where} is not a Jupyter notebook (it is not JSON): submit the .ipynb file "
            "(in Jupyter or Colab, File > Download > .ipynb)"
        ) from None
    if not isinstance(nb, dict):
        raise SubmissionError(f"{where} is not a Jupyter notebook (no cells)")
    cells = nb.get("cells")
    if cells is None and isinstance(nb.get("worksheets"), list):  # nbformat 3
        cells = [c for w in nb["worksheets"] if isinstance(w, dict) for c in w.get("cells", [])]
    if not isinstance(cells, list):
        raise SubmissionError(f"{where} is not a Jupyter notebook (no list of cells)")
    code = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", cell.get("input", ""))
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        if isinstance(src, str):
            code.append(src)
    if not any(c.strip() for c in code):
        raise SubmissionError(f"{where} has no code: did you submit the right notebook?")
    return code


def _pick(names: list[str], assignment: str | None) -> str | None:
    names = [n for n in names if n.endswith(".ipynb") and "__MACOSX" not in n]
    names = [n for n in names if ".ipynb_checkpoints" not in n] or names
    if not names:
        return None
    if assignment:
        for n in names:
            if Path(n).name == f"{assignment}.ipynb":
                return n
    return sorted(names, key=lambda n: (n.count("/"), n))[0]


def _from_zip(path: Path, assignment: str | None) -> tuple[list[str], str]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()[:MAX_ZIP_MEMBERS]
            name = _pick([i.filename for i in infos], assignment)
            if name is None:
                raise SubmissionError(f"{path.name} is a zip without a notebook (.ipynb) in it")
            info = zf.getinfo(name)
            if info.file_size > MAX_NOTEBOOK_MB * 2**20:
                raise SubmissionError(_too_big(name, info.file_size))
            return cells_from_json(zf.read(name), name), name
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as e:
        raise SubmissionError(f"{path.name} is not a readable zip file ({e})") from None


def _too_big(name: str, size: int) -> str:
    return (
        f"{name} is {size / 2**20:.0f} MB, over the {MAX_NOTEBOOK_MB} MB limit: clear the "
        "outputs (Edit > Clear all outputs), save, and submit again"
    )


def read_submission(path: Path, assignment: str | None = None) -> tuple[list[str], str]:
    """(code cells, the file they came from) of a notebook, an export zip or a folder."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        rel = [p.relative_to(path).as_posix() for p in files]
        name = _pick(rel, assignment)
        if name is not None:
            return read_submission(path / name, assignment)
        zips = [p for p in files if p.suffix.lower() == ".zip"]
        if zips:
            return _from_zip(zips[0], assignment)
        if files:
            return read_submission(files[0], assignment)
        raise SubmissionError("the submission is empty: upload your notebook (.ipynb)")
    if not path.is_file():
        raise SubmissionError("no submission was found")
    size = path.stat().st_size
    if zipfile.is_zipfile(path):
        return _from_zip(path, assignment)
    if size > MAX_NOTEBOOK_MB * 2**20:
        raise SubmissionError(_too_big(path.name, size))
    return cells_from_json(path.read_bytes(), path.name), path.name
