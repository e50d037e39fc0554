"""Read a source notebook in Otter's assign format into questions, solutions and tests.

One reader serves the lint (structure, config, tests), the points gate and the
leak scan (the concrete solution lines and hidden tests to look for). It never
raises on a malformed notebook: structural problems are collected in
`SourceNotebook.problems` as (cell index, question or None, message), so the
lint can report all of them with their cells.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

BLOCKS = ("question", "solution", "tests", "prompt")
_BOUNDARY = re.compile(r"#\s+(begin|end)\s+(question|solution|tests|prompt)\b", re.IGNORECASE)
_CONFIG = re.compile(r"#\s+assignment\s+config\s*", re.IGNORECASE)
_INLINE_BEGIN = re.compile(r"^\s*# BEGIN SOLUTION( NO PROMPT)?\s*$")
_INLINE_END = re.compile(r"^\s*# END SOLUTION\s*$")
_SOLUTION_SUFFIX = re.compile(r"\s*# ?SOLUTION( NO PROMPT)?\s*$")
_QUESTION_NAME = re.compile(r"q\d+[a-z]?")


def cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


@dataclass
class TestCase:
    cell: int  # index in the source notebook
    source: str  # the cell as written
    hidden: bool
    first_line: str

    @property
    def body(self) -> str:
        """The test's code without Otter's first-line marker comment."""
        lines = self.source.splitlines()
        if lines and lines[0].lstrip().startswith("#"):
            lines = lines[1:]
        return "\n".join(lines)


@dataclass
class Question:
    name: str
    cell: int  # index of the BEGIN QUESTION cell
    config: dict
    points: float | None = None
    manual: bool = False
    solution_cells: list[int] = field(default_factory=list)
    tests: list[TestCase] = field(default_factory=list)

    @property
    def hidden_tests(self) -> list[TestCase]:
        return [t for t in self.tests if t.hidden]

    @property
    def public_tests(self) -> list[TestCase]:
        return [t for t in self.tests if not t.hidden]


@dataclass
class SourceNotebook:
    path: Path
    nb: dict
    config: dict | None = None
    config_text: str = ""
    config_cell: int | None = None
    questions: list[Question] = field(default_factory=list)
    solution_cells: list[int] = field(default_factory=list)  # every cell inside a solution block
    test_cells: list[int] = field(default_factory=list)
    marker_cells: list[int] = field(default_factory=list)
    problems: list[tuple[int, str | None, str]] = field(default_factory=list)

    @property
    def cells(self) -> list[dict]:
        return self.nb.get("cells", [])

    def source(self, i: int) -> str:
        return cell_source(self.cells[i])

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)

    # -- what the leak scan looks for -------------------------------------
    def solution_lines(self) -> list[tuple[str | None, str]]:
        """(question, line) for every line that Otter removes from the student notebook."""
        owner = self._owners()
        found = []
        for i in self.solution_cells:
            cell = self.cells[i]
            text = self.source(i)
            if cell.get("cell_type") == "markdown":
                lines = text.splitlines()
            elif cell.get("cell_type") == "code":
                lines = removed_solution_lines(text)
            else:
                continue
            found.extend((owner.get(i), line) for line in lines)
        return found

    def given_code(self) -> str:
        """Code that students get as written: code cells outside solution blocks and tests,
        and the lines of solution cells that Otter keeps (signatures, docstrings)."""
        skip = set(self.solution_cells) | set(self.test_cells) | set(self.marker_cells)
        parts = [
            self.source(i)
            for i, c in enumerate(self.cells)
            if i not in skip and c.get("cell_type") == "code"
        ]
        for i in self.solution_cells:
            if self.cells[i].get("cell_type") == "code":
                removed = set(removed_solution_lines(self.source(i)))
                parts.extend(ln for ln in self.source(i).splitlines() if ln not in removed)
        return "\n".join(parts)

    def public_test_code(self) -> str:
        return "\n".join(t.source for q in self.questions for t in q.public_tests)

    def defined_functions(self) -> dict[str, str | None]:
        """Top-level functions and classes defined in solution cells -> their question."""
        owner = self._owners()
        names: dict[str, str | None] = {}
        for i in self.solution_cells:
            if self.cells[i].get("cell_type") != "code":
                continue
            try:
                tree = ast.parse(strip_magics(self.source(i)))
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names[node.name] = owner.get(i)
        return names

    def _owners(self) -> dict[int, str]:
        owner = {}
        for q in self.questions:
            for i in q.solution_cells:
                owner[i] = q.name
            for t in q.tests:
                owner[t.cell] = q.name
        return owner


def strip_magics(source: str) -> str:
    """Blank out IPython magics and shell escapes so the rest parses as Python."""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())


def removed_solution_lines(text: str) -> list[str]:
    """The lines of a solution code cell that Otter replaces (markers themselves excluded).

    Lines between `# BEGIN SOLUTION` and `# END SOLUTION`, and lines ending in
    `# SOLUTION` (without the marker: the student sees only `x = ...`).
    """
    removed, inside = [], False
    for line in text.splitlines():
        if _INLINE_BEGIN.match(line):
            inside = True
            continue
        if _INLINE_END.match(line):
            inside = False
            continue
        if inside:
            removed.append(line)
        elif _SOLUTION_SUFFIX.search(line) and not line.rstrip().endswith("PROMPT"):
            removed.append(_SOLUTION_SUFFIX.sub("", line))
    return removed


def inline_marker_problems(text: str) -> list[str]:
    """Unbalanced or nested `# BEGIN/END SOLUTION` lines inside one code cell."""
    problems, inside, opened = [], False, 0
    for n, line in enumerate(text.splitlines(), 1):
        if _INLINE_BEGIN.match(line):
            if inside:
                problems.append(
                    f"line {n}: BEGIN SOLUTION inside the block opened at line {opened}"
                )
            inside, opened = True, n
        elif _INLINE_END.match(line):
            if not inside:
                problems.append(f"line {n}: END SOLUTION without a BEGIN SOLUTION before it")
            inside = False
    if inside:
        problems.append(f"line {opened}: BEGIN SOLUTION is never closed by an END SOLUTION")
    return problems


def is_hidden_test(source: str) -> bool:
    """Otter's own rule: a first-line comment with the word 'hidden' (or a TEST CONFIG block)."""
    lines = source.splitlines()
    if not lines:
        return False
    hidden = lines[0].lstrip().startswith("#") and bool(
        re.search(r"\bhidden\b", lines[0], flags=re.IGNORECASE)
    )
    cfg = test_config(source)
    if isinstance(cfg, dict) and "hidden" in cfg:
        hidden = bool(cfg["hidden"])
    return hidden


def test_config(source: str) -> dict | None:
    """The YAML of a `\"\"\" # BEGIN TEST CONFIG ... \"\"\" # END TEST CONFIG` block, if any."""
    lines = source.splitlines()
    start = end = None
    for i, ln in enumerate(lines):
        if ln.strip().endswith("# BEGIN TEST CONFIG"):
            start = i
        elif ln.strip().endswith("# END TEST CONFIG") and start is not None:
            end = i
            break
    if start is None or end is None:
        return None
    try:
        cfg = yaml.safe_load("\n".join(lines[start + 1 : end]))
    except yaml.YAMLError:
        return None
    return cfg if isinstance(cfg, dict) else None


def read_source_notebook(path: Path | str) -> SourceNotebook:
    """Parse a source notebook; structural problems go to `.problems`, never raise."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    src = SourceNotebook(path=path, nb=nb)
    stack: list[tuple[str, int]] = []  # open blocks: (kind, cell index)
    question: Question | None = None

    def problem(i: int, msg: str) -> None:
        src.problems.append((i, question.name if question else None, msg))

    for i, cell in enumerate(src.cells):
        text = cell_source(cell)
        first = text.splitlines()[0] if text.strip() else ""
        ctype = cell.get("cell_type")
        if ctype == "raw" and _CONFIG.match(first):
            src.marker_cells.append(i)
            if src.config_cell is not None:
                problem(i, f"a second ASSIGNMENT CONFIG cell (the first is cell {src.config_cell})")
                continue
            src.config_cell = i
            src.config_text = text.split("\n", 1)[1] if "\n" in text else ""
            try:
                cfg = yaml.safe_load(src.config_text) or {}
            except yaml.YAMLError as e:
                problem(i, f"the ASSIGNMENT CONFIG is not valid YAML: {e}")
                cfg = {}
            if not isinstance(cfg, dict):
                problem(i, "the ASSIGNMENT CONFIG must be a YAML mapping")
                cfg = {}
            src.config = cfg
            continue
        m = _BOUNDARY.match(first) if ctype == "raw" else None
        misplaced = _BOUNDARY.match(first.strip()) if ctype != "raw" else None
        if (
            misplaced
            and first.strip().isupper()
            and (ctype == "markdown" or misplaced.group(2).lower() in ("question", "tests"))
        ):  # inline '# BEGIN SOLUTION' lines in code cells are Otter's own syntax
            problem(
                i, f"'{first.strip()}' is in a {ctype} cell: boundary markers must be raw cells"
            )
        if m:
            src.marker_cells.append(i)
            verb, kind = m.group(1).lower(), m.group(2).lower()
            if verb == "begin":
                if kind == "question":
                    if stack:
                        k, at = stack[-1]
                        problem(
                            i, f"BEGIN QUESTION inside the {k.upper()} block opened at cell {at}"
                        )
                        continue
                    try:
                        qcfg = yaml.safe_load(text.split("\n", 1)[1] if "\n" in text else "") or {}
                    except yaml.YAMLError as e:
                        problem(i, f"the question's config is not valid YAML: {e}")
                        qcfg = {}
                    if not isinstance(qcfg, dict):
                        problem(i, "the question's config must be a YAML mapping")
                        qcfg = {}
                    name = str(qcfg.get("name", "")) or f"(unnamed question at cell {i})"
                    question = Question(
                        name=name,
                        cell=i,
                        config=qcfg,
                        points=qcfg.get("points"),
                        manual=bool(qcfg.get("manual", False)),
                    )
                    src.questions.append(question)
                    stack.append((kind, i))
                else:
                    if stack and stack[-1][0] != "question":
                        k, at = stack[-1]
                        problem(i, f"BEGIN {kind.upper()} inside the {k.upper()} block (cell {at})")
                        continue
                    stack.append((kind, i))
            else:  # end
                if not stack or stack[-1][0] != kind:
                    if stack:
                        k, at = stack[-1]
                        problem(
                            i,
                            f"END {kind.upper()} while the {k.upper()} block opened at cell {at} "
                            "is still open",
                        )
                    else:
                        problem(i, f"END {kind.upper()} without a matching BEGIN {kind.upper()}")
                    continue
                stack.pop()
                if kind == "question":
                    question = None
            continue
        # an ordinary cell: which block is it in?
        inside = stack[-1][0] if stack else None
        if inside == "solution":
            src.solution_cells.append(i)
            if question is not None:
                question.solution_cells.append(i)
            if ctype == "code":
                for msg in inline_marker_problems(text):
                    problem(i, msg)
        elif inside == "tests":
            if ctype != "code":
                continue
            src.test_cells.append(i)
            if question is None:
                problem(i, "a TESTS block outside any question")
                continue
            question.tests.append(TestCase(i, text, is_hidden_test(text), first))
    for kind, at in stack:
        src.problems.append(
            (at, None, f"BEGIN {kind.upper()} is never closed by an END {kind.upper()}")
        )
    return src


def question_name_ok(name: str) -> bool:
    return bool(_QUESTION_NAME.fullmatch(name))
