"""Lint a source notebook before Otter sees it, naming file, cell, question and rule.

Otter's own errors are late and vague (a KeyError for a missing kernelspec,
silently dropped config keys, every submission scoring 0 for a `"` in a test
message), so the release checks the authoring conventions
(assignments/README.md) first and reports every problem at once. The conventions
are the named rules of `lint_rules`, run in their order.
"""

from __future__ import annotations

from pathlib import Path

from diffcourse_staff.course import Assignment
from diffcourse_staff.release.errors import ReleaseError
from diffcourse_staff.release.lint_rules import RULES, WARNINGS, Finding, LintContext
from diffcourse_staff.release.notebook import SourceNotebook, read_source_notebook


def describe(path: Path, rule: str, finding: Finding) -> str:
    """'<file> cell 3 (q2): <message> [rule]'."""
    where = str(path) if finding.cell is None else f"{path} cell {finding.cell}"
    if finding.question:
        where += f" ({finding.question})"
    return f"{where}: {finding.message} [{rule}]"


def run_rules(ctx: LintContext, rules=RULES) -> list[str]:
    """Every finding of the rules, described, in rule order."""
    return [describe(ctx.path, name, f) for name, rule in rules for f in rule(ctx)]


def lint_notebook(
    path: Path,
    assignment: Assignment,
    vendor_modules: list[str] | None = None,
) -> tuple[SourceNotebook, list[str]]:
    """Return the parsed notebook and its warnings; raise ReleaseError listing every problem."""
    path = Path(path)
    try:
        src = read_source_notebook(path)
    except (OSError, ValueError) as e:
        raise ReleaseError(assignment.id, f"{path}: cannot read the notebook: {e}") from None
    ctx = LintContext(path, src, assignment, vendor_modules)
    problems = run_rules(ctx)
    if problems:
        raise ReleaseError(assignment.id, problems)
    return src, run_rules(ctx, WARNINGS)
