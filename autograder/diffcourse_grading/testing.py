"""Otter's test files, run in the grader against proxies of the submission.

The tests (OK format: doctest cases with `hidden` flags and points) are read
with ast.literal_eval, never imported, and each case runs here, in the grader,
in a namespace where every name the tests take from the submission is a proxy:
a function becomes a RemoteFunction (calling it is a call in a fresh worker
child, with the reference implementation injected for every function of
another question), plain data is copied, a module is the grader's own import,
anything else a WorkerGlobal that goes back into calls by name. Scores follow
Otter: a question's points are split over its cases (or given per case).

Messages: a public case shows the failing line and the error; a hidden case
shows only the error's type and text, never the test's code.
"""

from __future__ import annotations

import ast
import builtins
import doctest
import importlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

from diffcourse_grading.boundary import WorkerGlobal
from diffcourse_grading.results import CaseResult, QuestionResult
from diffcourse_grading.rpc import CallTimeout, ChannelBroken, RemoteError, RemoteObject
from diffcourse_grading.supervisor import MemoryLimit, Supervisor, WorkerDied

TEST_MODULE = "__grading_test__"
MAX_MESSAGE = 1500


@dataclass
class Case:
    code: str
    hidden: bool
    points: float


@dataclass
class Question:
    name: str
    cases: list[Case]

    @property
    def possible(self) -> float:
        return sum(c.points for c in self.cases)


# -- reading the tests ------------------------------------------------------------------


def _natural(name: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def read_test_file(path: Path) -> Question:
    """One OK-format test file, read as data (never executed)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    spec = None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and getattr(node.targets[0], "id", "") == "test"
        ):
            spec = ast.literal_eval(node.value)
    if not isinstance(spec, dict) or "name" not in spec:
        raise ValueError(f"{path.name}: no `test = {{...}}` dictionary with a name")
    raw = [c for s in spec.get("suites", []) for c in s.get("cases", [])]
    points = _resolve_points(spec.get("points"), [c.get("points") for c in raw], path.name)
    cases = [
        Case(code=str(c.get("code", "")), hidden=bool(c.get("hidden", True)), points=p)
        for c, p in zip(raw, points, strict=True)
    ]
    return Question(str(spec["name"]), cases)


def _resolve_points(total, per_case: list, where: str) -> list[float]:
    """Otter's rule: a list gives each case's points; a total is split over cases without."""
    if isinstance(total, list):
        if len(total) != len(per_case):
            raise ValueError(f"{where}: {len(total)} point values for {len(per_case)} cases")
        return [float(p) for p in total]
    fixed = sum(float(p) for p in per_case if p is not None)
    free = sum(1 for p in per_case if p is None)
    if total is None:
        each = 1.0 / free if free else 0.0  # Otter: 1 point per question by default
    else:
        each = (float(total) - fixed) / free if free else 0.0
    return [float(p) if p is not None else each for p in per_case]


def read_tests(tests_dir: Path, order: list[str] | None = None) -> list[Question]:
    questions = [read_test_file(p) for p in sorted(tests_dir.glob("*.py"))]
    rank = {n: i for i, n in enumerate(order or [])}
    questions.sort(key=lambda q: (rank.get(q.name, len(rank)), _natural(q.name)))
    return questions


def free_names(code: str) -> list[str]:
    """Names a test reads without defining them (the submission's names it uses)."""
    try:
        examples = doctest.DocTestParser().get_examples(code)
        tree = ast.parse("\n".join(e.source for e in examples))
    except SyntaxError:
        return []
    assigned, used = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                used.append(node.id)
            else:
                assigned.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            assigned.add(node.name)
        elif isinstance(node, ast.arg):
            assigned.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                assigned.add((a.asname or a.name).split(".")[0])
    return [n for n in dict.fromkeys(used) if n not in assigned and not hasattr(builtins, n)]


# -- running them -----------------------------------------------------------------------


class Stop(KeyboardInterrupt):
    """Abort the current case; `why` says why. With `final`, the question's later cases are
    not run either (a time or memory limit: a hang would only repeat); with `flag`, the
    question is flagged for review."""

    def __init__(self, why: str, flag: str | None = None, final: bool = True):
        super().__init__(why)
        self.why = why
        self.flag = flag
        self.final = final


class RemoteFunction:
    """A student function: each call runs in a fresh child of the worker."""

    def __init__(self, name: str, grading: QuestionGrading):
        self.name = name
        self.grading = grading

    def __call__(self, *args, **kwargs):
        return self.grading.call(self.name, args, kwargs)

    def __repr__(self):
        return f"<submitted function {self.name}>"


class QuestionGrading:
    """Grades one question: its namespace, its calls and its limits."""

    def __init__(self, question: Question, sup: Supervisor, inject: dict, context: dict):
        self.q = question
        self.sup = sup
        self.inject = inject
        self.context = context
        self.result = QuestionResult(question.name, question.possible)
        self.deadline = time.monotonic() + sup.limits.total_timeout  # set by the caller
        self.used = 0.0  # seconds spent in calls

    def call(self, name: str, args, kwargs, mode: str = "call"):
        """One call into the worker. The question's time limit counts the time spent in
        calls (the submission's code and the callbacks it makes), not the tests' own
        set-up, nor a restart of the worker (replaying the notebook) before the call;
        `deadline` (the whole grading's) counts everything."""
        if time.monotonic() < self.deadline:
            try:
                self.sup.ensure_running()
            except (CallTimeout, ChannelBroken) as e:
                raise Stop(f"{name} could not run: {e}") from None
        now = time.monotonic()
        left = self.sup.limits.question_timeout - self.used
        if left <= 0 or now >= self.deadline:
            raise Stop(self._question_time() if left <= 0 else self._total_time())
        limit = min(self.sup.limits.call_timeout, left, self.deadline - now)
        why = (
            "call"
            if limit == self.sup.limits.call_timeout
            else "question"
            if limit == left
            else "total"
        )
        try:
            value = self.sup.call(
                name,
                args,
                kwargs,
                {"inject": self.inject, "mode": mode},
                now + limit,
                self.result.flags,
            )
        except CallTimeout:
            if why == "question":
                raise Stop(self._question_time()) from None
            if why == "total":
                raise Stop(self._total_time()) from None
            what = f"your {name}" if mode == "call" else f"reading {name} from your notebook"
            raise Stop(
                f"{what} did not return within {self.sup.limits.call_timeout:g} s "
                "(the per-call time limit) and was stopped"
            ) from None
        except MemoryLimit as e:
            raise Stop(f"{name} was stopped: {e}") from None
        except WorkerDied as e:
            raise Stop(f"{name} could not run: {e}") from None
        except ChannelBroken as e:
            raise Stop(
                f"{name} ended without an answer (its process died: {e})", final=False
            ) from None
        finally:
            self.used += time.monotonic() - now
            for line in self.sup.audit():
                self.result.flags.append(f"{name} {line}")
        if self.result.flags:
            raise Stop("flagged", self.result.flags[-1])
        for obj in _objects(value):
            raise Stop("flagged", f"{name} returned a non-data object ({obj._type})")
        return value

    def _total_time(self) -> str:
        return f"{self.q.name} was stopped: grading as a whole reached its time limit"

    def _question_time(self) -> str:
        return (
            f"grading of {self.q.name} was stopped: its calls took "
            f"{self.sup.limits.question_timeout:g} s in all (the per-question time limit)"
        )

    def namespace(self) -> dict:
        ns = {"__name__": TEST_MODULE, **self.context}
        names = []
        for c in self.q.cases:
            names += [n for n in free_names(c.code) if n not in ns]
        names = list(dict.fromkeys(names))
        if not names:
            return ns
        kinds = self.call("(the names the tests use)", names, {}, mode="describe")
        if not isinstance(kinds, dict):
            raise Stop("flagged", "the worker answered a description with something else")
        for name in names:
            info = kinds.get(name) or {}
            kind = info.get("kind") if isinstance(info, dict) else None
            if kind == "function":
                ns[name] = RemoteFunction(name, self)
            elif kind == "module":
                try:
                    ns[name] = importlib.import_module(str(info.get("module")))
                except Exception:  # noqa: BLE001 - a module the grader does not have
                    pass
            elif kind == "data":
                ns[name] = self.call(name, (), {}, mode="fetch")
            elif kind == "object":
                ns[name] = WorkerGlobal(name, str(info.get("type", "object")))
        return ns

    def run(self) -> QuestionResult:
        t0 = time.monotonic()
        try:
            ns = self.namespace()
        except Stop as e:
            self._stop_all(e)
            return self._finish(t0)
        for case in self.q.cases:
            if self.result.stopped or self.result.flags:
                why = "flagged for review" if self.result.flags else self.result.stopped
                self.result.cases.append(
                    CaseResult(False, case.hidden, case.points, f"not run: {why}")
                )
                continue
            self.result.cases.append(self._run_case(case, ns))
            self.sup.end_case()
        return self._finish(t0)

    def _finish(self, t0: float) -> QuestionResult:
        self.sup.end_case()
        self.result.seconds = time.monotonic() - t0
        return self.result

    def _stop_all(self, e: Stop) -> None:
        if e.flag:
            self.result.flags.append(e.flag)
        else:
            self.result.stopped = f"{self.q.name}: {e.why}"
        why = "flagged for review" if e.flag else e.why
        for case in self.q.cases[len(self.result.cases) :]:
            self.result.cases.append(CaseResult(False, case.hidden, case.points, f"not run: {why}"))

    def _run_case(self, case: Case, ns: dict) -> CaseResult:
        examples = doctest.DocTestParser().get_examples(case.code)
        test = doctest.DocTest(examples, ns, self.q.name, None, 0, None)
        runner = _Runner(optionflags=doctest.FAIL_FAST)
        try:
            runner.run(test, clear_globs=False)
        except Stop as e:
            if e.flag:
                self.result.flags.append(e.flag)
                return CaseResult(False, case.hidden, case.points, "flagged for review")
            if e.final:
                self.result.stopped = f"{self.q.name}: {e.why}"
            return CaseResult(False, case.hidden, case.points, e.why)
        except KeyboardInterrupt as e:  # CallTimeout or ChannelBroken outside a call
            self.result.stopped = f"{self.q.name}: stopped ({type(e).__name__}: {e})"
            return CaseResult(False, case.hidden, case.points, "stopped")
        if runner.failure is None:
            return CaseResult(True, case.hidden, case.points)
        return CaseResult(False, case.hidden, case.points, runner.describe(case.hidden))


class _Runner(doctest.DocTestRunner):
    """Records the first failure instead of printing it."""

    def __init__(self, **kw):
        super().__init__(verbose=False, **kw)
        self.failure = None

    def report_failure(self, out, test, example, got):
        if self.failure is None:
            self.failure = ("output", example, got)

    def report_unexpected_exception(self, out, test, example, exc_info):
        if self.failure is None:
            self.failure = ("exception", example, exc_info)

    def describe(self, hidden: bool) -> str:
        kind, example, info = self.failure
        if kind == "output":
            what = "it printed output that differs from the expected output"
            if not hidden:
                what += f"\nexpected:\n{example.want}got:\n{info}"
        else:
            exc = info[1]
            name = getattr(exc, "remote_type", None) or type(exc).__name__
            text = str(exc).strip()
            what = f"{name}: {text}" if text else name
            if isinstance(exc, RemoteError) and exc.remote_traceback and not hidden:
                what += "\n(raised inside your code)"
        if not hidden:
            what = f"the line\n    {example.source.strip()}\nfailed: {what}"
        return what[:MAX_MESSAGE]


def _objects(value, depth: int = 0):
    if depth > 64:
        return
    if isinstance(value, RemoteObject):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _objects(v, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _objects(v, depth + 1)


__all__ = [
    "Case",
    "Question",
    "QuestionGrading",
    "QuestionResult",
    "RemoteFunction",
    "read_tests",
]
