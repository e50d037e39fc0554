"""Leak scan: nothing students or the public site receive may reveal a solution or a hidden test.

Markers are not enough (a solution line pasted into a public test or a
markdown cell carries no marker), so the scan looks for the concrete text:
every line that Otter removes from a solution cell, every line and message of
every hidden test, normalised for whitespace. Lines that students see anyway
(they appear outside solution and hidden-test cells in the source), trivial
lines (`...`, `pass`, `return x`) and short lines are skipped. It also refuses
executed outputs in notebooks, hidden tests in notebook metadata and any
autograder file (test files, otter_config.json, the autograder zip), and
checks that no vendored diffcourse module defines or imports a function that a
solution cell defines.

Two users: the leaks gate (one set's student folder and zip, release/gates.py)
and `check_site` (the whole built site, every set not yet due: `make site`).
"""

from __future__ import annotations

import ast
import datetime as dt
import html
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from diffcourse_staff.course import Course
from diffcourse_staff.release.layout import site_handout
from diffcourse_staff.release.notebook import SourceNotebook, cell_source, strip_magics

MIN_LENGTH = 16  # shorter normalised lines are too generic to prove a leak
MIN_MESSAGE_LENGTH = 24  # message texts (and f-string pieces) are prose: longer, to be specific
TRIVIAL = {"...", "pass", "else:", "try:", "return", "break", "continue"}
TEXT_SUFFIXES = {
    ".ipynb",
    ".py",
    ".md",
    ".txt",
    ".html",
    ".htm",
    ".json",
    ".yml",
    ".yaml",
    ".js",
    ".csv",
    ".xml",
    ".svg",
    ".tex",
    ".rst",
    ".cfg",
    ".toml",
    ".ini",
}
# A solution line ending in this comment is shown to students on purpose (a hint).
GIVEN_MARK = re.compile(r"\s*#\s*given in the prompt\s*$", re.IGNORECASE)
FORBIDDEN_NAMES = {"otter_config.json", "run_autograder", "run_otter.py", "setup.sh"}


def normalise(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Needle:
    kind: str  # 'solution line', 'hidden test line', 'hidden test message'
    question: str | None
    text: str  # normalised


@dataclass(frozen=True)
class Leak:
    where: str
    question: str | None
    what: str
    kind: str = ""  # the needle kind for text matches; empty for file-level problems

    def __str__(self) -> str:
        q = f"{self.question}: " if self.question else ""
        return f"{q}{self.what} in {self.where}"


def _interesting(text: str, visible: str) -> bool:
    if len(text) < MIN_LENGTH or text in TRIVIAL:
        return False
    if not re.search(r"[A-Za-z0-9]", text):
        return False
    return text not in visible


def needles(src: SourceNotebook) -> list[Needle]:
    """The concrete texts whose presence in a student or site file is a leak."""
    # A solution line that the given code also contains is no secret; one that a public
    # test or a markdown cell repeats is a leak. Hidden tests may share set-up lines with
    # public tests (a generator seed, an import): those are not secrets either.
    given = normalise(src.given_code())
    visible = normalise(src.given_code() + "\n" + src.public_test_code())
    found: dict[str, Needle] = {}
    for question, line in src.solution_lines():
        if GIVEN_MARK.search(line):
            continue  # the author gives this line away on purpose (a hint in the prompt)
        text = normalise(GIVEN_MARK.sub("", line))
        if _interesting(text, given):
            found.setdefault(text, Needle("solution line", question, text))
    for q in src.questions:
        for t in q.hidden_tests:
            for line in t.body.splitlines():
                text = normalise(line)
                if _interesting(text, visible):
                    found.setdefault(text, Needle("hidden test line", q.name, text))
            try:
                tree = ast.parse(strip_magics(t.body))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Assert) and node.msg is not None:
                    for sub in ast.walk(node.msg):
                        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                            text = normalise(sub.value)
                            if len(text) >= MIN_MESSAGE_LENGTH and text not in visible:
                                found.setdefault(text, Needle("hidden test message", q.name, text))
    return list(found.values())


# -- reading what is shipped ------------------------------------------------------------


def _strings(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)] + [str(k) for k in obj]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def _readable_text(name: str, data: bytes) -> str | None:
    """The text a reader would see in a file, or None for a binary file."""
    suffix = Path(name).suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if suffix in (".ipynb", ".json"):
        try:
            text = "\n".join(_strings(json.loads(text)))
        except ValueError:
            pass
    if suffix in (".html", ".htm", ".svg", ".xml", ".json"):
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


def _notebook_problems(name: str, data: bytes, question_of_test) -> list[Leak]:
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return []
    leaks = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
            leaks.append(Leak(f"{name} cell {i}", None, "executed output (notebooks ship clean)"))
            break
    tests = nb.get("metadata", {}).get("otter", {}).get("tests", {}) or {}
    for qname, test in tests.items():
        for suite in test.get("suites", []) if isinstance(test, dict) else []:
            if any(case.get("hidden") for case in suite.get("cases", [])):
                leaks.append(Leak(f"{name} metadata", question_of_test(qname), "a hidden test"))
    return leaks


def iter_files(root: Path):
    """(display name, bytes) of every file under root, and of every member of its zips."""
    paths = [root] if root.is_file() else sorted(root.rglob("*"))
    for p in paths:
        if not p.is_file():
            continue
        data = p.read_bytes()
        yield str(p), data
        if p.suffix == ".zip":
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    for member in zf.namelist():
                        if not member.endswith("/"):
                            yield f"{p}!{member}", zf.read(member)
            except zipfile.BadZipFile:
                continue


def scan(
    roots: list[Path],
    srcs: list[SourceNotebook],
    forbidden_bytes: dict[bytes, str] | None = None,
) -> list[Leak]:
    """Every leak of any of `srcs` in the files (and zip members) under `roots`."""
    all_needles = [n for s in srcs for n in needles(s)]
    qnames = {q.name for s in srcs for q in s.questions}
    forbidden_bytes = forbidden_bytes or {}
    leaks: list[Leak] = []
    for root in roots:
        if not Path(root).exists():
            continue
        for name, data in iter_files(Path(root)):
            base = name.replace("!", "/").rsplit("/", 1)[-1]
            parts = set(name.replace("!", "/").split("/"))
            if base in FORBIDDEN_NAMES or "autograder" in base and base.endswith(".zip"):
                leaks.append(Leak(name, None, "an autograder file"))
                continue
            if "tests" in parts and base.endswith(".py") and b"'hidden': True" in data:
                leaks.append(Leak(name, None, "a test file with hidden cases"))
                continue
            if data in forbidden_bytes:
                leaks.append(Leak(name, None, forbidden_bytes[data]))
                continue
            if base.endswith(".ipynb"):
                leaks.extend(_notebook_problems(name, data, lambda q: q if q in qnames else None))
            text = _readable_text(name, data)
            if text is None:
                continue
            flat = normalise(text)
            for needle in all_needles:
                if needle.text in flat:
                    excerpt = needle.text if len(needle.text) <= 70 else needle.text[:67] + "..."
                    leaks.append(
                        Leak(name, needle.question, f"{needle.kind} '{excerpt}'", needle.kind)
                    )
    return leaks


def vendored_conflicts(vendor_dir: Path, src: SourceNotebook) -> list[Leak]:
    """Vendored modules that define or import a function a solution cell defines."""
    wanted = src.defined_functions()
    leaks = []
    for p in sorted(Path(vendor_dir).rglob("*.py")):
        try:
            tree = ast.parse(p.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [(node.name, "defines")]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [((a.asname or a.name).split(".")[-1], "imports") for a in node.names]
                names += [(a.name.split(".")[-1], "imports") for a in node.names]
            for name, verb in names:
                if name in wanted:
                    leaks.append(
                        Leak(
                            f"{p} line {node.lineno}",
                            wanted[name],
                            f"the vendored module {verb} '{name}', which a solution cell defines",
                        )
                    )
    return leaks


def solution_notebook_text(src: SourceNotebook) -> str:
    """All cell text of a source notebook (used to tell shipped copies of it apart)."""
    return "\n".join(cell_source(c) for c in src.cells)


# -- the built site ----------------------------------------------------------------------

# Evidence that another assignment's handout gives away a secret: single generic code
# lines (a loop header, a dtype cast) recur across problem sets by chance.
CROSS_ASSIGNMENT_MIN_SOLUTION_LINES = 2


def check_site(course: Course, site: Path, now: dt.datetime | None = None) -> list[str]:
    """Leak scan of the built site for every assignment not yet due; returns the problems.

    Pages are public from the start, so any secret of an assignment not due at `now`
    found there is a leak. A student zip of assignment X is public from X's release, so
    a secret of another assignment Y counts only if Y is still open then (problem set 3
    may give away problem set 2's DDIM step once problem set 2 is due), and only with
    real evidence: a hidden-test message, or at least two solution lines of one question
    in one file (hidden-test set-up lines are generic across problem sets). The library's
    rules (no wheel or API pages before its date) are `wheel.site_problems`.
    """
    from diffcourse_staff.release.build import notebook_path
    from diffcourse_staff.release.notebook import read_source_notebook
    from diffcourse_staff.release.wheel import site_problems

    now = now or dt.datetime.now()
    if not Path(site).exists():
        return []
    problems = []
    for owner in course.notebook_assignments:
        if owner.due <= now:
            continue  # solutions may be published once the assignment is due
        path = notebook_path(course, owner)
        if not path.exists():
            continue
        cross: dict[tuple[str, str | None], list[Leak]] = {}
        for leak in scan([Path(site)], [read_source_notebook(path)]):
            handout_id = site_handout(leak.where)
            handout = course.assignment(handout_id) if handout_id else None
            if handout is None or handout.id == owner.id:
                problems.append(f"{owner.id} {leak}")
            elif owner.due > handout.release and leak.kind != "hidden test line":
                cross.setdefault((leak.where, leak.question), []).append(leak)
        for found in cross.values():
            solution_lines = [lk for lk in found if lk.kind == "solution line"]
            if len(solution_lines) < len(found) or (
                len(solution_lines) >= CROSS_ASSIGNMENT_MIN_SOLUTION_LINES
            ):
                problems.extend(f"{owner.id} {lk}" for lk in found)
    return problems + site_problems(course, Path(site), now)
