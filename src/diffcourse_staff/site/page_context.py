"""What every page tag works with: the page context, the tag error, date formats and site paths.

The site's paths of generated pages and downloads are spelled here once; the tag
modules (`syllabus_pages`, `schedule_pages`, `assignment_pages`, `api_pages`,
`project_pages`) and the hooks ask for them.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

from diffcourse_staff.course import Assignment, Course
from diffcourse_staff.release import layout


class MacroError(ValueError):
    """A tag in a page that the course file cannot fill."""


@dataclass(frozen=True)
class PageContext:
    """What a tag needs besides the course: where the page is and how downloads behave."""

    course: Course
    page_uri: str  # the page's path inside the site, e.g. "assignments/ps1.md"
    page_uris: frozenset[str]  # every page and file of the site (to link only what exists)
    downloads: str = "require"  # "require" | "stub"
    # assignment id -> its dist/<id>/grading-report.json (the release's measurement)
    grading_reports: Mapping[str, dict] = field(default_factory=dict)

    def link(self, target_uri: str) -> str:
        """A link to target_uri (a site path) relative to this page."""
        base = posixpath.dirname(self.page_uri)
        return posixpath.relpath(target_uri, base or ".")


def fmt_date(d: dt.date) -> str:
    """Tue 19 Jan 2027."""
    return f"{d:%a} {d.day} {d:%b %Y}"


def fmt_short(d: dt.date) -> str:
    """Tue 19 Jan."""
    return f"{d:%a} {d.day} {d:%b}"


def fmt_datetime(t: dt.datetime) -> str:
    """Tue 2 Feb 2027, 23:59."""
    return f"{fmt_date(t.date())}, {t:%H:%M}"


def lecture_uri(notes: str) -> str:
    """The site path of a lecture's notes (the notes path of course.yml, kept as is)."""
    return notes


def assignment_uri(assignment_id: str) -> str:
    return f"assignments/{assignment_id}.md"


# The project's page: mini_projects/guide.md, brought into the site by the hooks.
MINI_PROJECT_URI = "mini-project.md"


def download_uri(assignment_id: str) -> str:
    return layout.site_student_zip(assignment_id)


def notebook_uri(assignment_id: str) -> str:
    return layout.site_student_notebook(assignment_id)


def colab_url(course: Course, assignment_id: str) -> str | None:
    """Colab's address for the published student notebook, from course.links.site_source.

    Colab opens notebooks from GitHub: https://colab.research.google.com/github/<owner>/
    <repo>/blob/<branch>/<path>. None when the course file names no such source.
    """
    source = course.links.get("site_source", "").rstrip("/")
    prefix = "https://github.com/"
    if not source.startswith(prefix):
        return None
    colab = course.links.get("colab", "https://colab.research.google.com/").rstrip("/")
    return f"{colab}/github/{source[len(prefix) :]}/{notebook_uri(assignment_id)}"


def escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def assignment_ref(ctx: PageContext, a: Assignment) -> str:
    uri = MINI_PROJECT_URI if a.kind == "project" else assignment_uri(a.id)
    if uri in ctx.page_uris:
        return f"[{a.title}]({ctx.link(uri)})"
    return a.title
