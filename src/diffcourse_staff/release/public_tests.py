"""The public tests students run with `grader.check`, as short-failing test files.

Otter writes every test as an OK-format doctest, and in the student's kernel it runs one
with a verbose doctest runner that keeps going after a failure: a public check whose first
line fails printed every line tried and one traceback per later line that used its result
(81 lines and 4 tracebacks for one mistake). The autograder zip keeps the OK files (the
grading runner reads them and stops at the first failure itself); the student folder gets
the same public cases in Otter's exception format instead, where a case is a function that
stops at its first failing line and Otter reports only that line and its message:

    q4 results:
        q4 - 1 result:
            ❌ Test case failed
            Error at line 14 in test q4:
                  _out = q_sample(...)
            NotImplementedError: q4: write q_sample

Each case becomes a function whose parameters are the notebook names it reads (Otter passes
them from the student's globals); a name the notebook has not defined yet fails at once
with a NameError saying so, as the doctest did.
"""

from __future__ import annotations

import builtins
import doctest
import keyword
import symtable
import textwrap
from pathlib import Path

from diffcourse_staff.release.errors import ReleaseError

_BUILTINS = set(dir(builtins))
_HEADER = '''"""Public tests of {name}: `grader.check("{name}")` runs them.

Hidden tests run on Gradescope. A case stops at its first failing line.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = {name!r}
points = {points!r}


def _defined(**names):
    """Fail at once, naming it, when the notebook has not defined a name the test reads."""
    for key, value in names.items():
        if value is None:
            raise NameError(f"name {{key!r}} is not defined: run the cell that defines it first")
'''


def case_body(code: str) -> str:
    """The Python source of one OK-format case (its doctest prompts removed)."""
    examples = doctest.DocTestParser().get_examples(code)
    return "".join(e.source for e in examples)


def notebook_names(body: str) -> list[str]:
    """Names the code reads but never binds itself (nor are builtins): the notebook's."""
    wrapped = "def _case():\n" + textwrap.indent(body, "    ") + "\n"
    table = symtable.symtable(wrapped, "<test>", "exec").get_children()[0]
    found: set[str] = set()

    def walk(t: symtable.SymbolTable) -> None:
        for sym in t.get_symbols():
            if sym.is_global() and sym.is_referenced() and not sym.is_assigned():
                found.add(sym.get_name())
        for child in t.get_children():
            walk(child)

    walk(table)
    return sorted(n for n in found - _BUILTINS if not keyword.iskeyword(n))


def case_function(index: int, body: str, **options) -> str:
    """One public case (Python source) as an exception-format test function."""
    body = body.rstrip("\n")
    names = notebook_names(body)
    args = [f"{k}={v!r}" for k, v in {"points": None, **options}.items()] + ["hidden=False"]
    lines = [f"@test_case({', '.join(args)})", f"def test_{index}({', '.join(names)}):"]
    if names:
        lines.append(f"    _defined({', '.join(f'{n}={n}' for n in names)})")
    lines.append(textwrap.indent(body, "    ") if body.strip() else "    pass")
    return "\n".join(lines) + "\n"


def file_header(name: str, points) -> str:
    return _HEADER.format(name=name, points=points)


def _case_function(index: int, case: dict) -> str:
    keys = ("points", "success_message", "failure_message")
    options = {k: case[k] for k in keys if case.get(k) is not None}
    return case_function(index, case_body(case["code"]), **options)


def exception_format(test: dict) -> str:
    """The exception-format file of one OK test dict (public cases only)."""
    suites = test.get("suites") or []
    cases = [c for s in suites for c in s.get("cases", [])]
    if any(c.get("hidden") for c in cases):
        raise ValueError(f"{test.get('name')}: a hidden case in a student test file")
    parts = [file_header(test["name"], test.get("points"))]
    parts += [_case_function(i, c) for i, c in enumerate(cases, 1)]
    return "\n\n".join(parts)


def convert_folder(aid: str, tests_dir: Path) -> int:
    """Rewrite every OK-format file in a student tests/ folder; returns how many."""
    count = 0
    for path in sorted(Path(tests_dir).glob("*.py")):
        env: dict = {}
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), env)  # Otter's own file
        if not env.get("OK_FORMAT"):
            continue
        try:
            text = exception_format(env["test"])
            compile(text, str(path), "exec")
        except (KeyError, ValueError, SyntaxError) as e:
            raise ReleaseError(aid, f"{path.name}: cannot rewrite the public tests ({e})") from None
        path.write_text(text, encoding="utf-8")
        count += 1
    return count
