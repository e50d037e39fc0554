"""Lint a source notebook before Otter sees it, naming file, cell and question.

Otter's own errors are late and vague (a KeyError for a missing kernelspec,
silently dropped config keys, every submission scoring 0 for a `"` in a test
message), so the release checks the authoring conventions
(assignments/README.md) first and reports every problem at once.
"""

from __future__ import annotations

import ast
import difflib
import re
from pathlib import Path

from diffcourse_staff.course import Assignment
from diffcourse_staff.release.config import OWNED_GENERATE_KEYS, OWNED_KEYS
from diffcourse_staff.release.errors import ReleaseError
from diffcourse_staff.release.notebook import (
    SourceNotebook,
    question_name_ok,
    read_source_notebook,
    test_config,
)
from diffcourse_staff.release.otter_keys import (
    TEST_CONFIG_KEYS,
    assignment_keys,
    question_keys,
    unknown_keys,
)

_UNQUOTED_VERSION = re.compile(r"^\s*python_version\s*:\s*[0-9][0-9.]*\s*(#.*)?$", re.MULTILINE)


def _suggest(key: str, tree: dict) -> str:
    *parents, leaf = key.split(".")
    for p in parents:
        tree = tree.get(p) or {}
    close = difflib.get_close_matches(leaf, list(tree), n=1)
    close = close or sorted(k for k in tree if k.startswith(leaf) or leaf in k)[:1]
    return f" (did you mean '{'.'.join([*parents, close[0]])}'?)" if close else ""


def _where(src: SourceNotebook, cell: int | None, question: str | None) -> str:
    parts = [str(src.path)]
    if cell is not None:
        parts.append(f"cell {cell}")
    text = " ".join(parts)
    return f"{text} ({question})" if question else text


def _message_quotes(test_source: str) -> list[int]:
    """Line numbers of assert (or raise) messages whose text contains a double quote.

    The delimiters do not matter (ruff format writes "..." in notebooks too); a `"`
    inside the message text is what the authoring rules forbid.
    """
    body = "\n".join(
        "" if ln.lstrip().startswith(("%", "!")) else ln for ln in test_source.splitlines()
    )
    tree = ast.parse(body)
    bad = []
    for node in ast.walk(tree):
        msg = None
        if isinstance(node, ast.Assert):
            msg = node.msg
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            msg = node.exc.args[0]
        if msg is None:
            continue
        texts = [
            n.value
            for n in ast.walk(msg)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        ]
        if any('"' in t for t in texts):
            bad.append(msg.lineno)
    return bad


def lint_notebook(
    path: Path,
    assignment: Assignment,
    vendor_modules: list[str] | None = None,
) -> tuple[SourceNotebook, list[str]]:
    """Return the parsed notebook and its warnings; raise ReleaseError listing every problem."""
    path = Path(path)
    aid = assignment.id
    try:
        src = read_source_notebook(path)
    except (OSError, ValueError) as e:
        raise ReleaseError(aid, f"{path}: cannot read the notebook: {e}") from None
    problems: list[str] = []
    warnings: list[str] = []

    def fail(cell: int | None, question: str | None, msg: str) -> None:
        problems.append(f"{_where(src, cell, question)}: {msg}")

    meta = src.nb.get("metadata", {})
    if not isinstance(meta.get("kernelspec"), dict) or not meta["kernelspec"].get("name"):
        fail(
            None,
            None,
            "missing metadata.kernelspec (Otter needs it; open the notebook in "
            "Jupyter, pick the Python 3 kernel and save)",
        )
    for cell, question, msg in src.problems:
        fail(cell, question, msg)

    # -- the ASSIGNMENT CONFIG ------------------------------------------------
    if src.config_cell is None:
        fail(None, None, "no '# ASSIGNMENT CONFIG' raw cell")
    else:
        cfg, at = src.config or {}, src.config_cell
        tree = assignment_keys()
        for key in unknown_keys(cfg, tree):
            fail(
                at,
                None,
                f"unknown or misspelled config key '{key}'{_suggest(key, tree)}; "
                "Otter rejects unknown top-level keys and silently drops them under "
                "generate: and tests:",
            )
        for key in sorted(OWNED_KEYS & cfg.keys()):
            fail(
                at,
                None,
                f"config key '{key}' is set by the release pipeline for every "
                "assignment (src/diffcourse_staff/release/config.py); remove it from the notebook",
            )
        generate = cfg.get("generate")
        if isinstance(generate, dict):
            for key in sorted(OWNED_GENERATE_KEYS & generate.keys()):
                fail(
                    at,
                    None,
                    f"config key 'generate.{key}' is set by the release pipeline; "
                    "remove it from the notebook",
                )
        if _UNQUOTED_VERSION.search(src.config_text):
            fail(
                at,
                None,
                'python_version must be quoted (python_version: "3.11"): unquoted, '
                "YAML reads it as a number and Otter fails with a misleading message",
            )
        if "name" in cfg and cfg["name"] != aid:
            fail(
                at, None, f"config name '{cfg['name']}' differs from the id in course.yml ('{aid}')"
            )
        files = cfg.get("files") or []
        if not isinstance(files, list):
            fail(at, None, "files: must be a list of paths relative to the notebook")
            files = []
        for f in files:
            p = path.parent / str(f)
            if not p.exists():
                fail(at, None, f"support file '{f}' listed under files: does not exist ({p})")
            elif Path(str(f)).is_absolute() or ".." in Path(str(f)).parts:
                fail(at, None, f"support file '{f}' must be a path inside {path.parent}")
            if vendor_modules and Path(str(f)).parts[:1] == ("diffcourse",):
                fail(
                    at,
                    None,
                    "do not list diffcourse/ under files: the release copies the "
                    "modules named in release.yml (vendor_modules)",
                )

    # -- the init cell -------------------------------------------------------
    init = f'otter.Notebook("{path.name}")'
    init_alt = f"otter.Notebook('{path.name}')"
    if not any(
        c.get("cell_type") == "code"
        and (init in "".join(c.get("source", "")) or init_alt in "".join(c.get("source", "")))
        for c in src.cells
    ):
        fail(None, None, f"no code cell with the Otter init ({init}); see assignments/README.md")

    # -- questions -----------------------------------------------------------
    seen: set[str] = set()
    qtree = question_keys()
    total = 0.0
    for q in src.questions:
        if "name" not in q.config:
            fail(q.cell, None, "BEGIN QUESTION without a name")
            continue
        if not question_name_ok(q.name):
            fail(q.cell, q.name, "question names are q + number + optional letter (q1, q2b)")
        if q.name in seen:
            fail(q.cell, q.name, "duplicate question name")
        seen.add(q.name)
        for key in unknown_keys(q.config, qtree):
            fail(
                q.cell, q.name, f"unknown or misspelled question key '{key}'{_suggest(key, qtree)}"
            )
        if isinstance(q.points, bool) or not isinstance(q.points, (int, float)) or q.points <= 0:
            fail(q.cell, q.name, f"points must be a positive number, got {q.points!r}")
        else:
            total += q.points
        if q.manual:
            if q.tests:
                fail(q.cell, q.name, "a manual (written) question has test cells")
            md = [i for i in q.solution_cells if src.cells[i].get("cell_type") == "markdown"]
            if not md:
                fail(
                    q.cell,
                    q.name,
                    "a written question needs a markdown solution cell "
                    "inside BEGIN/END SOLUTION (worked solution and rubric)",
                )
            elif not any("rubric" in src.source(i).lower() for i in md):
                fail(
                    q.cell,
                    q.name,
                    "the solution of a written question has no rubric ('Rubric (N points): ...')",
                )
            continue
        if not q.tests:
            fail(
                q.cell,
                q.name,
                "an autograded question without tests (add a BEGIN/END TESTS "
                "block, or mark it manual: true)",
            )
            continue
        if not q.public_tests:
            fail(
                q.cell,
                q.name,
                "no public test: give every question at least one (shape, "
                "dtype, a simple limit) so that grader.check says something",
            )
        if not q.hidden_tests:
            fail(
                q.cell,
                q.name,
                "no hidden test: hidden tests must decide most of the points "
                "(first line exactly '# HIDDEN')",
            )
        for n, t in enumerate(q.tests, 1):
            first = t.first_line.strip()
            if first.startswith("#") and re.search(r"\bhidden\b", first, re.IGNORECASE):
                if first != "# HIDDEN":
                    fail(
                        t.cell,
                        q.name,
                        f"test case {n}: first line {first!r} makes Otter hide "
                        "the test; write exactly '# HIDDEN' for a hidden test, or reword "
                        "the comment for a public one",
                    )
            cfg = test_config(t.source)
            if cfg is not None:
                bad = [k for k in cfg if k not in TEST_CONFIG_KEYS]
                if bad:
                    fail(t.cell, q.name, f"test case {n}: unknown TEST CONFIG key(s) {bad}")
            try:
                for line in _message_quotes(t.source):
                    fail(
                        t.cell,
                        q.name,
                        f"test case {n}: a double quote in the message on line "
                        f"{line}; write test messages with single quotes and no '\"'",
                    )
            except SyntaxError as e:
                fail(
                    t.cell,
                    q.name,
                    f"test case {n} is not valid Python: {e.msg} (line {e.lineno})",
                )
            if src.cells[t.cell].get("outputs"):
                fail(
                    t.cell,
                    q.name,
                    f"test case {n} has saved output; tests must print nothing "
                    "(Otter compares the output with the saved one): clear it",
                )
    points_ok = all(
        isinstance(q.points, (int, float)) and not isinstance(q.points, bool) and q.points > 0
        for q in src.questions
    )
    if src.questions and points_ok and abs(total - assignment.points) > 1e-9:
        detail = ", ".join(f"{q.name} {q.points}" for q in src.questions)
        fail(
            None,
            None,
            f"question points add up to {total:g}, but course.yml gives "
            f"{aid} {assignment.points} points ({detail})",
        )
    if not src.questions:
        fail(None, None, "no questions (BEGIN QUESTION ... END QUESTION)")

    for i, c in enumerate(src.cells):
        if c.get("cell_type") == "code" and c.get("outputs") and i not in src.test_cells:
            warnings.append(
                f"{_where(src, i, None)}: saved output (stripped by the release; "
                "clear outputs before committing)"
            )
            break
    if problems:
        raise ReleaseError(aid, problems)
    return src, warnings
