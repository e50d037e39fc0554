"""Markdown generated from the course file for the site's pages.

Hand-written pages (site/*.md) and lecture notes carry tags such as
`{{ course.term }}`, `{{ grading_table }}` or `{{ assignment_dates ps1 }}`: a tag
is two braces, one space, a name, optional space-separated arguments, one space,
two braces. `expand_macros` replaces each with text computed from the course file,
so every date, number and name on the site has one source (course.yml). An
unknown tag, or an argument naming nothing in the course file, raises MacroError
(the build stops and names the page).

This module is the tag registry and the expansion; the tags themselves live by page:
`syllabus_pages`, `schedule_pages`, `assignment_pages`, `api_pages` and
`project_pages` (mini project and library pages), over `page_context` (the context a
tag gets, date formats, the site's paths). The names other modules import from here
(PageContext, MacroError, download_uri, fmt_datetime, lecture_header...) stay here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from diffcourse_staff.site.api_pages import api
from diffcourse_staff.site.assignment_pages import (
    assignment_dates,
    assignment_download,
    assignment_howto,
    assignment_title,
    grading_costs,
    release_guide,
)
from diffcourse_staff.site.page_context import (
    MINI_PROJECT_URI,
    MacroError,
    PageContext,
    assignment_uri,
    colab_url,
    download_uri,
    fmt_date,
    fmt_datetime,
    fmt_short,
    lecture_uri,
    notebook_uri,
)
from diffcourse_staff.site.schedule_pages import (
    assignment_list,
    lecture_header,
    lecture_list,
    schedule_table,
)
from diffcourse_staff.site.syllabus_pages import (
    calendar_link,
    course_value,
    grading_rules,
    grading_table,
    late_policy,
    late_value,
    letter_table,
    link_value,
    meetings,
    objectives,
    policies_value,
    policy,
    prerequisites,
    staff_table,
)

__all__ = [  # what other modules import from here
    "BLOCKS",
    "MINI_PROJECT_URI",
    "MacroError",
    "PageContext",
    "assignment_uri",
    "colab_url",
    "download_uri",
    "expand_macros",
    "fmt_date",
    "fmt_datetime",
    "fmt_short",
    "lecture_header",
    "lecture_uri",
    "notebook_uri",
    "render_tag",
]

MACRO_RE = re.compile(r"\{\{ ([a-z_]+(?:\.[a-z_]+)?)((?: [A-Za-z0-9_.-]+)*) \}\}")

BLOCKS: dict[str, Callable[..., str]] = {
    "objectives": objectives,
    "prerequisites": prerequisites,
    "meetings": meetings,
    "grading_table": grading_table,
    "letter_table": letter_table,
    "late_policy": late_policy,
    "grading_rules": grading_rules,
    "calendar_link": calendar_link,
    "policy": policy,
    "schedule_table": schedule_table,
    "assignment_list": assignment_list,
    "lecture_list": lecture_list,
    "staff_table": staff_table,
    "assignment_dates": assignment_dates,
    "assignment_download": assignment_download,
    "assignment_title": assignment_title,
    "assignment_howto": assignment_howto,
    "release_guide": release_guide,
    "grading_costs": grading_costs,
    "api": api,
}

# The Mini project and Library pages' tags (their own module; it imports this one lazily).
from diffcourse_staff.site.project_pages import BLOCKS as _PROJECT_BLOCKS  # noqa: E402

BLOCKS.update(_PROJECT_BLOCKS)

NAMESPACES: dict[str, Callable[[PageContext, str], str]] = {
    "course": lambda ctx, name: course_value(ctx.course, name),
    "late": late_value,
    "policies": policies_value,
    "links": link_value,
}


def render_tag(ctx: PageContext, name: str, args: list[str]) -> str:
    if "." in name:
        space, key = name.split(".", 1)
        if space not in NAMESPACES or args:
            raise MacroError(f"unknown tag {{{{ {name} }}}}")
        return NAMESPACES[space](ctx, key)
    if name not in BLOCKS:
        known = ", ".join(sorted(BLOCKS) + [f"{s}.*" for s in NAMESPACES])
        raise MacroError(f"unknown tag {{{{ {name} }}}} (known: {known})")
    try:
        return BLOCKS[name](ctx, *args)
    except TypeError:
        raise MacroError(f"wrong arguments for {{{{ {name} }}}}: {args}") from None


def expand_macros(markdown: str, ctx: PageContext) -> str:
    """Replace every {{ tag }} of a page; raise MacroError naming the first bad one."""

    def replace(m: re.Match) -> str:
        return render_tag(ctx, m.group(1), m.group(2).split())

    return MACRO_RE.sub(replace, markdown)
