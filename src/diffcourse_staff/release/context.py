"""What one assignment's build carries from step to step: a single context object.

The build steps (release/build.py) and the gates (release/gates.py) each take a
`BuildContext` and read what they need from it (the course, the assignment,
its paths, the options, the linted source notebook, the results so far)
instead of a long list of parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import diffcourse
from diffcourse_staff.course import Assignment, Course
from diffcourse_staff.release.grade import DEFAULT_GUARD_SECONDS
from diffcourse_staff.release.layout import BUILD_DIR, DIST_DIR, Layout, SetPaths
from diffcourse_staff.release.notebook import SourceNotebook
from diffcourse_staff.release.stamps import StampFile

PACKAGE_DIR = Path(diffcourse.__file__).resolve().parent


@dataclass
class BuildOptions:
    dist: Path = DIST_DIR
    build: Path = BUILD_DIR
    gates: bool = True
    solutions: bool = False
    force: bool = False
    guard_seconds: float = DEFAULT_GUARD_SECONDS
    vendor_source: Path = PACKAGE_DIR  # where vendored diffcourse modules are copied from
    log: object = print

    @property
    def layout(self) -> Layout:
        return Layout(Path(self.dist), Path(self.build))


@dataclass
class BuildResult:
    assignment: str
    rebuilt: bool
    gates_run: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    report: dict | None = None
    seconds: float = 0.0


@dataclass
class BuildContext:
    """One assignment's build: its inputs, where its outputs go, and what is known so far."""

    course: Course
    assignment: Assignment
    options: BuildOptions
    notebook: Path  # the source notebook
    paths: SetPaths
    modules: list[str]  # the library modules release.yml vendors
    shared: list[dict]  # the set-up and Submitting cells every notebook gets
    key: str  # the hash of every input: what the stamps compare
    stamps: StampFile
    result: BuildResult
    files: list[str] = field(default_factory=list)  # the staged support files (set by staging)
    _source: SourceNotebook | None = None

    @property
    def aid(self) -> str:
        return self.assignment.id

    def log(self, message: str) -> None:
        self.options.log(f"{self.aid}: {message}")

    @property
    def source(self) -> SourceNotebook:
        """The linted source notebook. The lint runs on first use, at most once per build
        (an up-to-date build whose gates all passed never needs it)."""
        if self._source is None:
            from diffcourse_staff.release.lint import lint_notebook

            self._source, warnings = lint_notebook(self.notebook, self.assignment, self.modules)
            self.result.warnings = warnings
            for w in warnings:
                self.log(f"warning: {w}")
            self.log(f"lint ok ({len(self._source.questions)} questions)")
        return self._source
