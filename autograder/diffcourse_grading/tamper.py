"""Static scan of a submission's code for tampering with the grader.

Hidden tests run inside the student's kernel and share its modules, so a
submission that writes `torch.allclose = lambda *a, **k: True` (or patches
otter, sys.modules or builtins) can pass tests it should fail. This scan reads
the code without running it and reports each suspicious statement with its
cell and line. It is a heuristic: a flagged submission goes to manual review,
it is not proof of cheating; a determined student can evade it, which is why
hidden tests also avoid trusting library helpers.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

# Attribute writes under these dotted prefixes are ordinary configuration.
ALLOWED_ATTRIBUTE_PREFIXES = (
    "torch.backends.",
    "pd.options.",
    "pandas.options.",
    "np.random.seed",  # never an assignment target in practice; harmless
)
# Names whose use in any form is a write to the interpreter's own state.
BUILTIN_HANDLES = {"__builtins__", "builtins"}
# Calls that run code the scan cannot see.
DYNAMIC_CODE_CALLS = {"exec", "eval", "compile", "__import__"}


@dataclass(frozen=True)
class Finding:
    """One suspicious statement: where it is and why it was flagged."""

    cell: int  # index of the code cell in the submitted notebook (0-based), -1 for a script
    line: int  # line within the cell (1-based)
    reason: str

    def __str__(self) -> str:
        where = f"cell {self.cell}, line {self.line}" if self.cell >= 0 else f"line {self.line}"
        return f"{where}: {self.reason}"


def _dotted(node: ast.AST) -> str | None:
    """'torch.nn.functional' for the expression torch.nn.functional, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else None


def _strip_magics(source: str) -> str:
    """Blank out IPython magics and shell escapes so the rest parses as Python."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


class _Scanner(ast.NodeVisitor):
    def __init__(self, imported: set[str]):
        self.imported = imported  # names bound by import statements anywhere in the submission
        self.findings: list[tuple[int, str]] = []

    def flag(self, node: ast.AST, reason: str) -> None:
        self.findings.append((getattr(node, "lineno", 0), reason))

    # -- writes -----------------------------------------------------------
    def _check_target(self, target: ast.AST, verb: str) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._check_target(elt, verb)
            return
        if isinstance(target, ast.Starred):
            self._check_target(target.value, verb)
            return
        root = _root_name(target)
        if root in BUILTIN_HANDLES and isinstance(target, (ast.Attribute, ast.Subscript)):
            self.flag(target, f"{verb} the interpreter's builtins ({ast.unparse(target)})")
            return
        if isinstance(target, ast.Subscript):
            dotted = _dotted(target.value)
            if dotted and dotted.endswith("sys.modules"):
                self.flag(target, f"{verb} sys.modules ({ast.unparse(target)})")
            return
        if isinstance(target, ast.Attribute):
            dotted = _dotted(target)
            if root in self.imported and dotted is not None:
                if any(dotted.startswith(p) for p in ALLOWED_ATTRIBUTE_PREFIXES):
                    return
                self.flag(target, f"{verb} an attribute of an imported module or name ({dotted})")

    def visit_Assign(self, node: ast.Assign) -> None:
        for t in node.targets:
            self._check_target(t, "assigns to")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node.target, "assigns to")
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._check_target(node.target, "assigns to")
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for t in node.targets:
            self._check_target(t, "deletes")
        self.generic_visit(node)

    # -- calls ------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        dotted = _dotted(func)
        if name in ("setattr", "delattr") and node.args:
            obj_root = _root_name(node.args[0])
            if obj_root in self.imported or obj_root in BUILTIN_HANDLES:
                self.flag(node, f"calls {name} on an imported module or name")
        if name in DYNAMIC_CODE_CALLS:
            self.flag(node, f"calls {name}(), which runs code the grader cannot inspect")
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("register", "unregister")
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "events"
        ):
            self.flag(node, f"changes IPython's cell events (events.{func.attr})")
        if dotted:
            if ".".join(dotted.split(".")[-3:-1]) == "sys.modules":
                self.flag(node, f"changes sys.modules ({dotted})")
            if dotted.split(".")[0] == "signal" and "signal" in self.imported:
                self.flag(node, f"changes signal handling ({dotted}), used by the time limit")
            if dotted.endswith("importlib.reload") or dotted == "reload":
                self.flag(node, f"reloads a module ({dotted})")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__":
            self.flag(node, "uses __builtins__ directly")

    def visit_Global(self, node: ast.Global) -> None:
        return


def _imported_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                names.add(alias.asname or alias.name)
    return names


def scan_source(cells: list[str]) -> list[Finding]:
    """Scan the code of each cell; return the findings in cell order.

    Names bound by an import in any cell count as imported in every cell,
    since notebook cells share one namespace.
    """
    trees: list[ast.AST | None] = []
    for source in cells:
        try:
            trees.append(ast.parse(_strip_magics(source)))
        except SyntaxError:
            trees.append(None)  # a cell that does not parse cannot run either
    imported: set[str] = set()
    for tree in trees:
        if tree is not None:
            imported |= _imported_names(tree)
    findings = []
    for i, tree in enumerate(trees):
        if tree is None:
            continue
        scanner = _Scanner(imported)
        scanner.visit(tree)
        findings.extend(Finding(i, line, reason) for line, reason in scanner.findings)
    return findings


def scan_notebook(nb: dict) -> list[Finding]:
    """Scan the code cells of a notebook (a dict as read by json or nbformat)."""
    sources = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            sources.append("".join(src) if isinstance(src, list) else src)
    return scan_source(sources)
