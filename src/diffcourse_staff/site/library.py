"""What the site says about the course library, by date: its schedule before, its wheel after.

Until every problem set the library answers is due (`release.wheel.library_opens`),
the Library page lists what the library will offer and from when, and the site has
no API reference. From then on it has one API page per module (rendered from the
code by mkdocstrings, without source) and, once the release has built it, the wheel
with its install line. DIFFCOURSE_NOW (an ISO date and time) stands in for the
clock, for previews and tests.
"""

from __future__ import annotations

import ast
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from diffcourse_staff.course import Course
from diffcourse_staff.release.wheel import (
    EXCLUDED,
    PACKAGE_DIR,
    _excluded,
    library_opens,
)
from diffcourse_staff.site import release

NOW_ENV = "DIFFCOURSE_NOW"
API_DIR = "library/api"

__all__ = ["EXCLUDED", "LibraryState", "NOW_ENV", "api_uri", "library_modules", "library_state"]


def site_now() -> dt.datetime:
    value = os.environ.get(NOW_ENV)
    if not value:
        return dt.datetime.now()
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{NOW_ENV}={value!r} is not an ISO date and time") from None


@dataclass(frozen=True)
class LibraryState:
    opens: dt.datetime | None  # None: the library answers no problem set
    published: bool
    wheel: Path | None  # the release's wheel, when published and built


_OPENS: dict[tuple, dt.datetime | None] = {}


def _opens(course: Course) -> dt.datetime | None:
    """library_opens, once per process for the same due dates and notebooks (a few seconds)."""
    from diffcourse_staff.release.build import notebook_path

    key = tuple(
        (a.id, a.due, notebook_path(course, a).stat().st_mtime_ns)
        for a in course.notebook_assignments
        if notebook_path(course, a).exists()
    )
    if key not in _OPENS:
        _OPENS[key] = library_opens(course)
    return _OPENS[key]


def library_state(course: Course, now: dt.datetime | None = None) -> LibraryState:
    now = now or site_now()
    opens = _opens(course)
    published = opens is None or now >= opens
    wheel = None
    if published:
        wheel = next(iter(sorted(release().wheel_dir.glob("diffcourse-*.whl"))), None)
    return LibraryState(opens, published, wheel)


def library_modules() -> list[tuple[str, str]]:
    """(module name, first line of its docstring) of every module the wheel ships."""
    found = []
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        if path.name == "__init__.py" or _excluded(path.name):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        first_paragraph = " ".join(doc.strip().split("\n\n")[0].split())
        found.append((path.stem, first_paragraph))
    return found


def api_uri(module: str) -> str:
    return f"{API_DIR}/{module}.md"


def api_page(module: str) -> str:
    return f"# `diffcourse.{module}`\n\n::: diffcourse.{module}\n"


def date_state(course: Course) -> str:
    """The date-gated state of the site, one line each: what a rebuild would change."""
    from diffcourse_staff.site.project_pages import project_released

    state = library_state(course)
    return (
        f"library published: {state.published}\n"
        f"library wheel: {state.wheel.name if state.wheel else None}\n"
        f"project released: {project_released(course)}\n"
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m diffcourse_staff.site.library STAMP`: rewrite STAMP only when the date-gated
    state changed, so that `make site` rebuilds the site when a date passes."""
    import sys

    from diffcourse_staff.site import site_course

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m diffcourse_staff.site.library STAMP", file=sys.stderr)
        return 2
    stamp = Path(argv[0])
    text = date_state(site_course())
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != text:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
