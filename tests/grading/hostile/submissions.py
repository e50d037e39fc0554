"""Build the catalog's submissions from a problem set's real student notebook.

catalog.yml holds the cases as data; this module turns one case into the file a
student would upload (a notebook, or a zip), starting from the set's BASE
notebook: the blank student notebook with the reference answer of the catalog's
honest question(s) pasted in, taken from the solutions notebook the release
built.
"""

from __future__ import annotations

import copy
import io
import json
import random
import re
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat
import yaml

from diffcourse_staff.release.layout import Layout

CATALOG = Path(__file__).resolve().parent / "catalog.yml"
CLASSES = (
    "file",
    "death",
    "resource",
    "hang",
    "forgery",
    "tests",
    "patch",
    "magic",
    "frame",
    "leak",
    "network",
)
HUGE_NOTEBOOK_BYTES = 200 * 2**20


@dataclass(frozen=True)
class Case:
    id: str
    cls: str
    set: str
    base: str = "honest"
    cell: tuple[str, ...] = ()
    replace: tuple[str, str] | None = None  # (function name, new cell source)
    file: str | None = None
    flag: bool = False
    honest: bool = True
    slow: bool = False


@dataclass(frozen=True)
class Catalog:
    cases: tuple[Case, ...]
    honest: dict  # set -> function names answered in the base notebook
    plausible: dict  # set -> code of wrong but well-typed answers
    snippets: dict


class CatalogError(ValueError):
    pass


@cache
def load_catalog(path: Path = CATALOG) -> Catalog:
    """Read and check catalog.yml; a malformed entry names its case and field."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    cases, seen = [], set()
    known = {"id", "class", "set", "base", "cell", "replace", "file", "flag", "honest", "slow"}
    for i, raw in enumerate(data["cases"]):
        where = f"{path.name}: case {i} ({raw.get('id', '?')})"
        if unknown := set(raw) - known:
            raise CatalogError(f"{where}: unknown field(s) {sorted(unknown)}")
        if raw.get("id") in seen:
            raise CatalogError(f"{where}: duplicate id")
        seen.add(raw["id"])
        if raw.get("class") not in CLASSES:
            raise CatalogError(f"{where}: class must be one of {CLASSES}")
        if raw.get("set") not in data["honest"]:
            raise CatalogError(f"{where}: set must be one of {sorted(data['honest'])}")
        how = [k for k in ("cell", "replace", "file") if k in raw]
        if len(how) != 1:
            raise CatalogError(f"{where}: give exactly one of cell, replace, file")
        if raw.get("replace", {}).get("function") in data["honest"].get(raw.get("set"), []):
            raise CatalogError(f"{where}: replaces the honest answer, which must stay intact")
        if raw.get("file") and raw["file"] not in FILE_BUILDERS:
            raise CatalogError(f"{where}: unknown file builder {raw['file']!r}")
        base = raw.get("base", "honest")
        if base not in ("honest", "plausible") or (
            base == "plausible" and raw["set"] not in data["plausible"]
        ):
            raise CatalogError(f"{where}: no base {base!r} for {raw['set']}")
        cell = raw.get("cell", ())
        replace = raw.get("replace")
        cases.append(
            Case(
                id=raw["id"],
                cls=raw["class"],
                set=raw["set"],
                base=base,
                cell=(cell,) if isinstance(cell, str) else tuple(cell),
                replace=(replace["function"], replace["code"]) if replace else None,
                file=raw.get("file"),
                flag=bool(raw.get("flag", False)),
                honest=bool(raw.get("honest", True)),
                slow=bool(raw.get("slow", False)) or raw["set"] in data.get("slow_sets", []),
            )
        )
    return Catalog(tuple(cases), data["honest"], data["plausible"], data["snippets"])


# ---------------------------------------------------------------- notebooks


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _defining_cell(nb: dict, function: str) -> int:
    pattern = re.compile(rf"^(def|class) {re.escape(function)}\b", re.M)
    hits = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    hits = [i for i in hits if pattern.search(_source(nb["cells"][i]))]
    if len(hits) != 1:
        raise CatalogError(f"{len(hits)} cells define {function!r} in the notebook (want 1)")
    return hits[0]


def _code_cell(source: str) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": source,
    }


class Dist:
    """The release's output for the catalog's sets: student and solutions notebooks, zips."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def zip(self, aid: str) -> Path:
        return Layout.beside(self.root).set_by_id(aid).autograder_zip

    def student(self, aid: str) -> dict:
        path = Layout.beside(self.root).set_by_id(aid).student_notebook
        return json.loads(path.read_text("utf-8"))

    def solutions(self, aid: str) -> dict:
        paths = Layout.beside(self.root).set_by_id(aid)
        return json.loads((paths.solutions_dir / paths.notebook_name).read_text("utf-8"))

    def solution_of(self, aid: str, function: str) -> str:
        nb = self.solutions(aid)
        return _source(nb["cells"][_defining_cell(nb, function)])

    def questions(self, aid: str) -> dict[str, float]:
        from diffcourse_staff.release.grade import zip_questions

        return zip_questions(self.zip(aid))


def base_notebook(dist: Dist, aid: str, base: str = "honest") -> dict:
    """The blank student notebook with the honest answer(s) (and, for `plausible`, a wrong
    but well-typed answer to every other function, in a cell after the imports)."""
    catalog = load_catalog()
    nb = dist.student(aid)
    for function in catalog.honest[aid]:
        nb["cells"][_defining_cell(nb, function)]["source"] = dist.solution_of(aid, function)
    if base == "plausible":
        for function in re.findall(r"^def (\w+)", catalog.plausible[aid], re.M):
            nb["cells"][_defining_cell(nb, function)]["source"] = _function_source(
                catalog.plausible[aid], function
            )
    return nb


def _function_source(code: str, function: str) -> str:
    """One top-level def (with its body) out of a block of code."""
    lines, out, inside = code.splitlines(), [], False
    for line in lines:
        if line.startswith(("def ", "class ")):
            inside = line.startswith(f"def {function}(")
        if inside:
            out.append(line)
    return "\n".join(out).rstrip() + "\n"


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line.strip() else line for line in text.splitlines())


def fill(code: str, dist: Dist, aid: str, depth: int = 0) -> str:
    """Replace the catalog's {{...}} placeholders in a case's code (see catalog.yml)."""
    catalog = load_catalog()

    def one(match: re.Match) -> str:
        indent, kind, _, arg = match.group(1), match.group(2), match.group(3), match.group(4)
        if kind == "questions":
            text = repr(dist.questions(aid))
        elif kind == "solution":
            text = dist.solution_of(aid, arg)
        elif kind in ("snippet", "snippet_repr"):
            if arg not in catalog.snippets:
                raise CatalogError(f"no snippet {arg!r} in catalog.yml")
            text = fill(catalog.snippets[arg], dist, aid, depth + 1)
            if kind == "snippet_repr":
                text = repr(text)
        else:
            raise CatalogError(f"unknown placeholder {match.group(0).strip()!r}")
        return _indent(text, indent)

    if depth > 3:
        raise CatalogError("placeholders nest too deep")
    blocks = re.sub(r"(?m)^([ \t]*)\{\{(\w+)(:(\w+))?\}\}[ \t]*$", one, code)
    return re.sub(r"()\{\{(\w+)(:(\w+))?\}\}", one, blocks)


def notebook_for(case: Case, dist: Dist) -> dict:
    """The case's notebook (for cell and replace cases)."""
    nb = base_notebook(dist, case.set, case.base)
    if case.replace:
        function, code = case.replace
        nb["cells"][_defining_cell(nb, function)]["source"] = fill(code, dist, case.set)
    for code in case.cell:
        nb["cells"].append(_code_cell(fill(code, dist, case.set)))
    return nb


# ---------------------------------------------------------------- file-level builders


def _dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False)


def _with_markdown(nb: dict, text: str) -> dict:
    nb = copy.deepcopy(nb)
    nb["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": text})
    return nb


def _huge(nb: dict) -> bytes:
    nb = copy.deepcopy(nb)
    last = max(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
    nb["cells"][last]["outputs"] = [
        {"name": "stdout", "output_type": "stream", "text": "x" * HUGE_NOTEBOOK_BYTES}
    ]
    return _dumps(nb).encode()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _other_set(dist: Dist, aid: str) -> str:
    others = sorted(set(load_catalog().honest) - {aid})
    return others[0]


def _nbformat3(nb: dict) -> bytes:
    old = nbformat.convert(nbformat.reads(_dumps(nb), as_version=4), 3)
    return nbformat.writes(old, version=3).encode()


# name -> (file name pattern, builder(base notebook, dist, set) -> bytes)
FILE_BUILDERS = {
    "empty": ("{aid}.ipynb", lambda nb, d, a: b""),
    "not_json": ("{aid}.ipynb", lambda nb, d, a: b"this is not a notebook\n"),
    "truncated": ("{aid}.ipynb", lambda nb, d, a: _dumps(nb).encode()[: len(_dumps(nb)) // 2]),
    "latin1": (
        "{aid}.ipynb",
        lambda nb, d, a: _dumps(_with_markdown(nb, "Résumé: naïve café, 25 °C")).encode("latin-1"),
    ),
    "utf16": ("{aid}.ipynb", lambda nb, d, a: _dumps(nb).encode("utf-16")),
    "binary": ("{aid}.ipynb", lambda nb, d, a: random.Random(0).randbytes(2**20)),
    "json_not_notebook": ("{aid}.ipynb", lambda nb, d, a: b'[{"cells": []}, 1, 2, 3]'),
    "cells_not_list": ("{aid}.ipynb", lambda nb, d, a: _dumps(nb | {"cells": "oops"}).encode()),
    "huge": ("{aid}.ipynb", lambda nb, d, a: _huge(nb)),
    "zip_without_notebook": (
        "{aid}-submission.zip",
        lambda nb, d, a: _zip({"README.txt": b"answers in my head\n", "notes.py": b"x = 1\n"}),
    ),
    "wrong_assignment": (
        "{other}.ipynb",
        lambda nb, d, a: _dumps(base_notebook(d, _other_set(d, a))).encode(),
    ),
    "otter_zip": (
        "{aid}_2027_02_01T12_00_00_000000.zip",
        lambda nb, d, a: _zip({f"{a}.ipynb": _dumps(nb).encode()}),
    ),
    "odd_kernelspec": (
        "{aid}.ipynb",
        lambda nb, d, a: _dumps(
            nb
            | {
                "metadata": nb["metadata"]
                | {
                    "kernelspec": {
                        "display_name": "Python [conda env:diffusion]",
                        "language": "python",
                        "name": "conda-env-diffusion-py",
                    }
                }
            }
        ).encode(),
    ),
    "nbformat3": ("{aid}.ipynb", lambda nb, d, a: _nbformat3(nb)),
}


def build_submission(case: Case, dist: Dist, folder: Path) -> Path:
    """Write the case's submission into folder; return its path (a file)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if case.file:
        pattern, builder = FILE_BUILDERS[case.file]
        name = pattern.format(aid=case.set, other=_other_set(dist, case.set))
        data = builder(base_notebook(dist, case.set, case.base), dist, case.set)
    else:
        name, data = f"{case.set}.ipynb", _dumps(notebook_for(case, dist)).encode()
    path = folder / name
    path.write_bytes(data)
    return path


def build_base(dist: Dist, aid: str, base: str, folder: Path) -> Path:
    """The honest baseline: the base notebook without any hostile cell."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{aid}.ipynb"
    path.write_text(_dumps(base_notebook(dist, aid, base)), encoding="utf-8")
    return path
