"""The notebook lint's rules: one small function per authoring convention.

Each rule reads a parsed source notebook (a `LintContext`) and yields a `Finding` for
every place that breaks its convention (assignments/README.md); `RULES` is their
order, and each rule's name is printed with its messages, so that an author can find
the rule (and its test, tests/release/test_lint_rules.py) from the message.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from diffcourse_staff.course import Assignment
from diffcourse_staff.release.config import OWNED_GENERATE_KEYS, OWNED_KEYS
from diffcourse_staff.release.notebook import (
    Question,
    SourceNotebook,
    question_name_ok,
    strip_magics,
    test_config,
)
from diffcourse_staff.release.otter_keys import (
    TEST_CONFIG_KEYS,
    assignment_keys,
    unknown_keys,
)
from diffcourse_staff.release.otter_keys import question_keys as otter_question_keys

_UNQUOTED_VERSION = re.compile(r"^\s*python_version\s*:\s*[0-9][0-9.]*\s*(#.*)?$", re.MULTILINE)


@dataclass(frozen=True)
class LintContext:
    path: Path  # the source notebook
    src: SourceNotebook
    assignment: Assignment
    vendor_modules: list[str] | None = None


@dataclass(frozen=True)
class Finding:
    cell: int | None
    question: str | None
    message: str


Rule = Callable[[LintContext], Iterator[Finding]]


def _suggest(key: str, tree: dict) -> str:
    *parents, leaf = key.split(".")
    for p in parents:
        tree = tree.get(p) or {}
    close = difflib.get_close_matches(leaf, list(tree), n=1)
    close = close or sorted(k for k in tree if k.startswith(leaf) or leaf in k)[:1]
    return f" (did you mean '{'.'.join([*parents, close[0]])}'?)" if close else ""


def _points_ok(q: Question) -> bool:
    return not isinstance(q.points, bool) and isinstance(q.points, (int, float)) and q.points > 0


def _named(ctx: LintContext) -> Iterator[Question]:
    """Questions with a name (a nameless one is reported once, by question_names)."""
    return (q for q in ctx.src.questions if "name" in q.config)


def _autograded(ctx: LintContext) -> Iterator[Question]:
    return (q for q in _named(ctx) if not q.manual and q.tests)


def _message_quotes(test_source: str) -> list[int]:
    """Line numbers of assert (or raise) messages whose text contains a double quote.

    The delimiters do not matter (ruff format writes "..." in notebooks too); a `"`
    inside the message text is what the authoring rules forbid.
    """
    tree = ast.parse(strip_magics(test_source))
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


# -- the notebook ------------------------------------------------------------------


def kernelspec(ctx: LintContext) -> Iterator[Finding]:
    """Otter fails late, with a KeyError, on a notebook without a kernelspec."""
    spec = ctx.src.nb.get("metadata", {}).get("kernelspec")
    if not isinstance(spec, dict) or not spec.get("name"):
        yield Finding(
            None,
            None,
            "missing metadata.kernelspec (Otter needs it; open the notebook in "
            "Jupyter, pick the Python 3 kernel and save)",
        )


def markers(ctx: LintContext) -> Iterator[Finding]:
    """BEGIN/END blocks balanced and not nested (found by the notebook reader)."""
    for cell, question, msg in ctx.src.problems:
        yield Finding(cell, question, msg)


def otter_init(ctx: LintContext) -> Iterator[Finding]:
    """A code cell creates `otter.Notebook("<file>")`, or grader.check finds no tests."""
    names = [f'otter.Notebook("{ctx.path.name}")', f"otter.Notebook('{ctx.path.name}')"]
    cells = ctx.src.cells
    if not any(
        c.get("cell_type") == "code" and any(n in "".join(c.get("source", "")) for n in names)
        for c in cells
    ):
        yield Finding(
            None, None, f"no code cell with the Otter init ({names[0]}); see assignments/README.md"
        )


# -- the ASSIGNMENT CONFIG ----------------------------------------------------------


def config_cell(ctx: LintContext) -> Iterator[Finding]:
    if ctx.src.config_cell is None:
        yield Finding(None, None, "no '# ASSIGNMENT CONFIG' raw cell")


def config_keys(ctx: LintContext) -> Iterator[Finding]:
    """Otter rejects unknown top-level keys and silently drops them under generate:/tests:."""
    if ctx.src.config_cell is None:
        return
    tree = assignment_keys()
    for key in unknown_keys(ctx.src.config or {}, tree):
        yield Finding(
            ctx.src.config_cell,
            None,
            f"unknown or misspelled config key '{key}'{_suggest(key, tree)}; "
            "Otter rejects unknown top-level keys and silently drops them under "
            "generate: and tests:",
        )


def pipeline_keys(ctx: LintContext) -> Iterator[Finding]:
    """Keys the release sets for every assignment (release/config.py) stay out of notebooks."""
    if ctx.src.config_cell is None:
        return
    cfg, at = ctx.src.config or {}, ctx.src.config_cell
    for key in sorted(OWNED_KEYS & cfg.keys()):
        yield Finding(
            at,
            None,
            f"config key '{key}' is set by the release pipeline for every "
            "assignment (src/diffcourse_staff/release/config.py); remove it from the notebook",
        )
    generate = cfg.get("generate")
    if isinstance(generate, dict):
        for key in sorted(OWNED_GENERATE_KEYS & generate.keys()):
            yield Finding(
                at,
                None,
                f"config key 'generate.{key}' is set by the release pipeline; "
                "remove it from the notebook",
            )


def python_version_quoted(ctx: LintContext) -> Iterator[Finding]:
    """Unquoted, YAML reads 3.10 as the number 3.1."""
    if ctx.src.config_cell is not None and _UNQUOTED_VERSION.search(ctx.src.config_text):
        yield Finding(
            ctx.src.config_cell,
            None,
            'python_version must be quoted (python_version: "3.11"): unquoted, '
            "YAML reads it as a number and Otter fails with a misleading message",
        )


def config_name(ctx: LintContext) -> Iterator[Finding]:
    cfg, aid = ctx.src.config or {}, ctx.assignment.id
    if ctx.src.config_cell is not None and "name" in cfg and cfg["name"] != aid:
        yield Finding(
            ctx.src.config_cell,
            None,
            f"config name '{cfg['name']}' differs from the id in course.yml ('{aid}')",
        )


def support_files(ctx: LintContext) -> Iterator[Finding]:
    """Files under files: exist, inside the notebook's folder; diffcourse/ is vendored."""
    if ctx.src.config_cell is None:
        return
    at, folder = ctx.src.config_cell, ctx.path.parent
    files = (ctx.src.config or {}).get("files") or []
    if not isinstance(files, list):
        yield Finding(at, None, "files: must be a list of paths relative to the notebook")
        return
    for f in map(str, files):
        p = folder / f
        if not p.exists():
            yield Finding(at, None, f"support file '{f}' listed under files: does not exist ({p})")
        elif Path(f).is_absolute() or ".." in Path(f).parts:
            yield Finding(at, None, f"support file '{f}' must be a path inside {folder}")
        if ctx.vendor_modules and Path(f).parts[:1] == ("diffcourse",):
            yield Finding(
                at,
                None,
                "do not list diffcourse/ under files: the release copies the "
                "modules named in release.yml (vendor_modules)",
            )


# -- questions ------------------------------------------------------------------------


def question_names(ctx: LintContext) -> Iterator[Finding]:
    """q + number + optional letter, once each: the names in grades and messages."""
    seen: set[str] = set()
    for q in ctx.src.questions:
        if "name" not in q.config:
            yield Finding(q.cell, None, "BEGIN QUESTION without a name")
            continue
        if not question_name_ok(q.name):
            yield Finding(
                q.cell, q.name, "question names are q + number + optional letter (q1, q2b)"
            )
        if q.name in seen:
            yield Finding(q.cell, q.name, "duplicate question name")
        seen.add(q.name)


def question_keys(ctx: LintContext) -> Iterator[Finding]:
    tree = otter_question_keys()
    for q in _named(ctx):
        for key in unknown_keys(q.config, tree):
            yield Finding(
                q.cell, q.name, f"unknown or misspelled question key '{key}'{_suggest(key, tree)}"
            )


def question_points(ctx: LintContext) -> Iterator[Finding]:
    for q in _named(ctx):
        if not _points_ok(q):
            yield Finding(q.cell, q.name, f"points must be a positive number, got {q.points!r}")


def points_total(ctx: LintContext) -> Iterator[Finding]:
    """The questions' points add up to the assignment's points in course.yml."""
    questions, a = ctx.src.questions, ctx.assignment
    if not questions or not all(_points_ok(q) for q in questions):
        return
    total = sum(q.points for q in questions)
    if abs(total - a.points) > 1e-9:
        detail = ", ".join(f"{q.name} {q.points}" for q in questions)
        yield Finding(
            None,
            None,
            f"question points add up to {total:g}, but course.yml gives "
            f"{a.id} {a.points} points ({detail})",
        )


def has_questions(ctx: LintContext) -> Iterator[Finding]:
    if not ctx.src.questions:
        yield Finding(None, None, "no questions (BEGIN QUESTION ... END QUESTION)")


def written_questions(ctx: LintContext) -> Iterator[Finding]:
    """A manual question has no tests and a markdown solution with its rubric."""
    src = ctx.src
    for q in _named(ctx):
        if not q.manual:
            continue
        if q.tests:
            yield Finding(q.cell, q.name, "a manual (written) question has test cells")
        md = [i for i in q.solution_cells if src.cells[i].get("cell_type") == "markdown"]
        if not md:
            yield Finding(
                q.cell,
                q.name,
                "a written question needs a markdown solution cell "
                "inside BEGIN/END SOLUTION (worked solution and rubric)",
            )
        elif not any("rubric" in src.source(i).lower() for i in md):
            yield Finding(
                q.cell,
                q.name,
                "the solution of a written question has no rubric ('Rubric (N points): ...')",
            )


def public_and_hidden_tests(ctx: LintContext) -> Iterator[Finding]:
    """An autograded question has tests: public ones for grader.check, hidden for the score."""
    for q in _named(ctx):
        if q.manual:
            continue
        if not q.tests:
            yield Finding(
                q.cell,
                q.name,
                "an autograded question without tests (add a BEGIN/END TESTS "
                "block, or mark it manual: true)",
            )
            continue
        if not q.public_tests:
            yield Finding(
                q.cell,
                q.name,
                "no public test: give every question at least one (shape, "
                "dtype, a simple limit) so that grader.check says something",
            )
        if not q.hidden_tests:
            yield Finding(
                q.cell,
                q.name,
                "no hidden test: hidden tests must decide most of the points "
                "(first line exactly '# HIDDEN')",
            )


# -- test cases -------------------------------------------------------------------------


def _test_cases(ctx: LintContext):
    for q in _autograded(ctx):
        for n, t in enumerate(q.tests, 1):
            yield q, n, t


def hidden_marker(ctx: LintContext) -> Iterator[Finding]:
    """Otter hides a test whose first line mentions 'hidden': only '# HIDDEN' may."""
    for q, n, t in _test_cases(ctx):
        first = t.first_line.strip()
        mentions = first.startswith("#") and re.search(r"\bhidden\b", first, re.IGNORECASE)
        if mentions and first != "# HIDDEN":
            yield Finding(
                t.cell,
                q.name,
                f"test case {n}: first line {first!r} makes Otter hide "
                "the test; write exactly '# HIDDEN' for a hidden test, or reword "
                "the comment for a public one",
            )


def config_keys_of_tests(ctx: LintContext) -> Iterator[Finding]:
    for q, n, t in _test_cases(ctx):
        cfg = test_config(t.source)
        bad = [k for k in cfg or () if k not in TEST_CONFIG_KEYS]
        if bad:
            yield Finding(t.cell, q.name, f"test case {n}: unknown TEST CONFIG key(s) {bad}")


def syntax_of_tests(ctx: LintContext) -> Iterator[Finding]:
    for q, n, t in _test_cases(ctx):
        try:
            ast.parse(strip_magics(t.source))
        except SyntaxError as e:
            yield Finding(
                t.cell, q.name, f"test case {n} is not valid Python: {e.msg} (line {e.lineno})"
            )


def quotes_in_test_messages(ctx: LintContext) -> Iterator[Finding]:
    """A `"` in a test message makes every submission score 0 under Otter."""
    for q, n, t in _test_cases(ctx):
        try:
            lines = _message_quotes(t.source)
        except SyntaxError:
            continue  # reported by syntax_of_tests
        for line in lines:
            yield Finding(
                t.cell,
                q.name,
                f"test case {n}: a double quote in the message on line "
                f"{line}; write test messages with single quotes and no '\"'",
            )


def outputs_of_tests(ctx: LintContext) -> Iterator[Finding]:
    """Otter compares a test's output with the saved one: tests print nothing."""
    for q, n, t in _test_cases(ctx):
        if ctx.src.cells[t.cell].get("outputs"):
            yield Finding(
                t.cell,
                q.name,
                f"test case {n} has saved output; tests must print nothing "
                "(Otter compares the output with the saved one): clear it",
            )


# The lint's rules, in the order their problems are listed.
RULES: tuple[tuple[str, Rule], ...] = (
    ("kernelspec", kernelspec),
    ("markers", markers),
    ("config-cell", config_cell),
    ("config-keys", config_keys),
    ("pipeline-keys", pipeline_keys),
    ("python-version-quoted", python_version_quoted),
    ("config-name", config_name),
    ("support-files", support_files),
    ("otter-init", otter_init),
    ("question-names", question_names),
    ("question-keys", question_keys),
    ("question-points", question_points),
    ("written-questions", written_questions),
    ("tests-public-and-hidden", public_and_hidden_tests),
    ("hidden-marker", hidden_marker),
    ("test-config-keys", config_keys_of_tests),
    ("test-syntax", syntax_of_tests),
    ("test-message-quotes", quotes_in_test_messages),
    ("test-outputs", outputs_of_tests),
    ("points-total", points_total),
    ("has-questions", has_questions),
)


def saved_outputs(ctx: LintContext) -> Iterator[Finding]:
    """A warning, not a problem: the release strips outputs, but the diff carries them."""
    for i, c in enumerate(ctx.src.cells):
        if c.get("cell_type") == "code" and c.get("outputs") and i not in ctx.src.test_cells:
            yield Finding(
                i, None, "saved output (stripped by the release; clear outputs before committing)"
            )
            return


WARNINGS: tuple[tuple[str, Rule], ...] = (("saved-outputs", saved_outputs),)
