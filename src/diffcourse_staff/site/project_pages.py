"""`{{ tags }}` of the Mini project and Library pages, from the course file and mini_projects/.

Registered in `diffcourse_staff.site.pages.BLOCKS`. They read the project data through
`diffcourse_staff.projects.data` (so a bad rubric or idea stops the build with its file and
key) and the library's publication date through `diffcourse_staff.site.library`.
"""

from __future__ import annotations

from diffcourse_staff.projects.data import load_ideas, load_papers, load_rubric
from diffcourse_staff.projects.rubric import criteria_table, rubric_markdown
from diffcourse_staff.release.layout import site_download
from diffcourse_staff.site.library import api_uri, library_modules, library_state, site_now

PROJECT_ID = "mini_project"
DOWNLOADS = {  # site path -> what it is
    "downloads/starter-custom-data.zip": "Starter, *train on your own data*",
    "downloads/starter-pretrained.zip": "Starter, *new uses of a pretrained model*",
    "downloads/example-project.zip": "Worked example with its report",
    "downloads/report-template.zip": "Report template (Markdown, with its PDF builder)",
}


def _fmt(t) -> str:
    from diffcourse_staff.site.pages import fmt_datetime

    return fmt_datetime(t)


def _project(ctx):
    project, rubric = load_rubric(ctx.course)
    return project, rubric


def project_milestones(ctx) -> str:
    project, _ = _project(ctx)
    rows = ["| Milestone | Due | Points | What to hand in |", "| --- | --- | ---: | --- |"]
    for m in project.milestones:
        rows.append(f"| {m.title} | {_fmt(m.due)} | {m.points} | {m.deliverable} |")
    rows.append(f"| **Total** | | **{project.points}** | |")
    weight = next((g.weight for g in ctx.course.grading if project.id in g.assignments), None)
    share = f" The project is {weight:g}% of the final grade." if weight is not None else ""
    return f"Released {_fmt(project.release)} ({ctx.course.timezone}).{share}\n\n" + "\n".join(rows)


def project_rubric(ctx) -> str:
    project, rubric = _project(ctx)
    return rubric_markdown(project, rubric, heading="###")


def project_ideas(ctx) -> str:
    ideas = load_ideas()
    parts = []
    for track_id, track in ideas.tracks.items():
        parts += [f"### {track.title}", ""]
        for idea in (i for i in ideas.ideas if i.track == track_id):
            parts += [
                f"**{idea.title}.** {idea.question}",
                "",
                f"- *Data:* {idea.dataset}",
                f"- *Baseline:* {idea.baseline}",
                f"- *Metric:* {idea.metric}",
                "",
            ]
    return "\n".join(parts).rstrip() + "\n"


def project_released(course) -> bool:
    """Whether the project (and so its starters and template) is out at the site's clock."""
    project = next((a for a in course.assignments if a.id == PROJECT_ID), None)
    return project is not None and site_now() >= project.release


def project_downloads(ctx) -> str:
    project, _ = _project(ctx)
    if not project_released(ctx.course):
        return (
            f'!!! note "Published with the project on {_fmt(project.release)}"\n'
            "    The starter kits, the worked example and the report template appear here"
            " when the project is released; they use the course library, which is"
            " published just before."
        )
    lines = []
    for uri, what in DOWNLOADS.items():
        name = uri.rsplit("/", 1)[-1]
        if uri in ctx.page_uris:
            lines.append(f"- {what}: [{name}]({ctx.link(uri)})")
        else:
            lines.append(f"- {what}: `{name}` (not built in this preview)")
    return "\n".join(lines)


def paper_list(ctx) -> str:
    papers = load_papers(ctx.course)
    rows = ["| Paper | Authors | Year | Topic |", "| --- | --- | ---: | --- |"]
    for p in papers.papers:
        rows.append(f"| [{p.title}]({p.link}) | {p.authors} | {p.year} | {p.topic} |")
    return "\n".join(rows)


def presentation_rubric(ctx) -> str:
    return criteria_table(load_papers(ctx.course).rubric)


def library_install(ctx) -> str:
    state = library_state(ctx.course)
    if not state.published:
        return (
            f'!!! note "Published on {_fmt(state.opens)}"\n'
            "    The library implements what the problem sets ask you to write, so you get it"
            " once the last of those problem sets is due: on"
            f" **{_fmt(state.opens)}** ({ctx.course.timezone}), before the mini project"
            " starts. Then this page links its package (a wheel) with the line that installs"
            " it, and its API reference. Until then the problem sets ship the parts of it"
            " they need."
        )
    if state.wheel is None:
        return (
            '!!! note "Package not built"\n'
            "    The library is public now; its package appears here once the release has"
            " built it (`make release`)."
        )
    uri = site_download(state.wheel.name)
    link = f"[{state.wheel.name}]({ctx.link(uri)})" if uri in ctx.page_uris else state.wheel.name
    return (
        f"Download {link} and install it in a fresh virtual environment (Python 3.10 or"
        " newer):\n\n"
        "```bash\n"
        "pip install torch --index-url https://download.pytorch.org/whl/cpu  # or a CUDA build\n"
        f"pip install {state.wheel.name}\n"
        "```"
    )


def library_reference(ctx) -> str:
    state = library_state(ctx.course)
    rows = ["| Module | What it holds |", "| --- | --- |"]
    for module, summary in library_modules():
        uri = api_uri(module)
        name = (
            f"[`diffcourse.{module}`]({ctx.link(uri)})"
            if uri in ctx.page_uris
            else (f"`diffcourse.{module}`")
        )
        rows.append(f"| {name} | {summary.replace('|', '/')} |")
    if state.published:
        head = "Each module has a page of API reference, generated from the code."
    else:
        head = f"The API reference of each module appears here on {_fmt(state.opens)}."
    return head + "\n\n" + "\n".join(rows)


BLOCKS = {
    "project_milestones": project_milestones,
    "project_rubric": project_rubric,
    "project_ideas": project_ideas,
    "project_downloads": project_downloads,
    "paper_list": paper_list,
    "presentation_rubric": presentation_rubric,
    "library_install": library_install,
    "library_reference": library_reference,
}
