"""MkDocs hooks (mkdocs.yml `hooks:`): the course file, lectures, figures and MathJax.

They run for `mkdocs build` and `mkdocs serve` alike:
- on_config: site name and navigation from the course file (lectures and problem sets
  in course order); live reload also watches the figures folder.
- on_files: the lecture notes (lectures/ at the repo root, the `notes:` paths of
  course.yml), the figures (build/figures, made by `python -m diffcourse_staff.site.figures`),
  the student zips (dist/<id>/<id>-student.zip, made by the release) and the course
  calendar (calendar.ics, from course.yml) join the site's files; every problem set must
  have its page site/assignments/<id>.md.
- on_page_markdown: `{{ tags }}` are filled from the course file (diffcourse_staff.site.pages)
  and each lecture gets its date and topics under its title.
- on_post_build: MathJax 3 (node_modules, `npm ci`) is copied into assets/mathjax, so
  the site loads nothing from another host.

Missing student zips: with DIFFCOURSE_SITE_DOWNLOADS=stub (and always under `mkdocs
serve`) the download link becomes a notice; otherwise the build fails and says why.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from diffcourse_staff.course import CourseFileError
from diffcourse_staff.grades.ics import CALENDAR_URI, calendar_bytes
from diffcourse_staff.release.layout import site_download
from diffcourse_staff.site import (
    DOWNLOAD_MODES,
    DOWNLOADS_ENV,
    FIGURES_DIR,
    NODE_MODULES,
    release,
    site_course,
)
from diffcourse_staff.site.library import api_page, api_uri, library_modules, library_state
from diffcourse_staff.site.pages import (
    MINI_PROJECT_URI,
    MacroError,
    PageContext,
    assignment_uri,
    download_uri,
    expand_macros,
    lecture_header,
    notebook_uri,
)
from diffcourse_staff.site.project_pages import project_released

log = logging.getLogger("mkdocs.hooks.diffcourse")

# What of MathJax's es5 folder the site serves: the TeX-to-CHTML component, the TeX
# extensions it may autoload, the fonts, and the menu/accessibility parts it loads lazily.
MATHJAX_PARTS = (
    "tex-chtml.js",
    "input/tex/extensions",
    "output/chtml/fonts/woff-v2",
    "ui",
    "a11y",
    "sre",
)

_state: dict = {"command": "build"}

# The mini project's guide lives with its data (mini_projects/) and becomes this page.
MINI_PROJECT_GUIDE = "mini_projects/guide.md"
PROJECT_DOWNLOADS_DIR = FIGURES_DIR.parent / "project-downloads"  # build/project-downloads


def _course():
    try:
        return site_course()
    except CourseFileError as e:
        raise PluginError(f"course file: {e}") from None


def _downloads_mode() -> str:
    mode = os.environ.get(DOWNLOADS_ENV) or ("stub" if _state["command"] == "serve" else "require")
    if mode not in DOWNLOAD_MODES:
        raise PluginError(f"{DOWNLOADS_ENV}={mode!r}: use one of {', '.join(DOWNLOAD_MODES)}")
    return mode


def _grading_reports(course) -> dict[str, dict]:
    """The release's grading reports that exist (a site built before the release has none)."""
    reports = {}
    for a in course.notebook_assignments:
        path = release().set(a).grading_report
        if path.is_file():
            try:
                reports[a.id] = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                raise PluginError(f"{path}: not JSON ({e}); run make release") from None
    return reports


def on_startup(command, dirty):
    _state["command"] = command


def on_config(config):
    course = _course()
    _state["course"] = course
    _state["grading_reports"] = _grading_reports(course)
    config.site_name = f"{course.code}: {course.title}"
    config.site_description = course.description
    config.copyright = f"{course.code}: {course.title}, {course.term}"
    lectures = [{lec.title: lec.notes} for lec in course.lectures]
    problem_sets = [{a.title: assignment_uri(a.id)} for a in course.notebook_assignments]
    library = _state["library"] = library_state(course)
    library_nav: object = "library.md"
    if library.published:
        api = [{f"diffcourse.{m}": api_uri(m)} for m, _ in library_modules()]
        library_nav = [{"Overview": "library.md"}, {"API reference": api}]
    # Pages for the teaching staff get their own section, after everything students
    # use; the staff's names and office hours are for students.
    teaching = []
    docs = Path(config.docs_dir)
    if (docs / "staff" / "release-guide.md").is_file():
        teaching.append({"Release guide": "staff/release-guide.md"})
    if (docs / "staff" / "grading-the-term.md").is_file():
        teaching.append({"Grading the term": "staff/grading-the-term.md"})
    if (docs / "staff" / "course-file.md").is_file():
        teaching.append({"The course file": "staff/course-file.md"})
    config.nav = [
        {"Home": "index.md"},
        {"Syllabus": "syllabus.md"},
        {"Schedule": "schedule.md"},
        {"Lectures": lectures},
        {"Problem sets": problem_sets},
        {"Mini project": MINI_PROJECT_URI},
        {"Course library": library_nav},
        {"People and office hours": "staff/index.md"},
    ] + ([{"For teaching staff": teaching}] if teaching else [])
    if FIGURES_DIR.is_dir() and str(FIGURES_DIR) not in config.watch:
        config.watch.append(str(FIGURES_DIR))
    return config


def on_files(files: Files, config) -> Files:
    course = _state["course"]
    docs = Path(config.docs_dir)

    for lec in course.lectures:
        src = course.path.parent / lec.notes
        if files.get_file_from_path(lec.notes) is not None:
            raise PluginError(f"{lec.notes} exists in {docs} too: lecture notes live in lectures/")
        files.append(File.generated(config, lec.notes, abs_src_path=str(src)))

    for a in course.notebook_assignments:
        if files.get_file_from_path(assignment_uri(a.id)) is None:
            raise PluginError(
                f"problem set {a.id} has no page: write {docs / assignment_uri(a.id)}"
                " (what it covers; dates and links come from {{ tags }})"
            )
        handout = release().set(a)
        zip_path = handout.student_zip
        if zip_path.is_file():
            files.append(File.generated(config, download_uri(a.id), abs_src_path=str(zip_path)))
        notebook = handout.student_notebook
        if notebook.is_file():  # what "Open in Colab" opens
            files.append(File.generated(config, notebook_uri(a.id), abs_src_path=str(notebook)))

    try:
        ics = calendar_bytes(course)
    except CourseFileError as e:
        raise PluginError(f"course calendar: {e}") from None
    files.append(File.generated(config, CALENDAR_URI, content=ics))
    _add_project_and_library_files(files, config, course)

    if FIGURES_DIR.is_dir():
        for path in sorted(FIGURES_DIR.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                uri = "figures/" + path.relative_to(FIGURES_DIR).as_posix()
                files.append(File.generated(config, uri, abs_src_path=str(path)))
    else:
        log.info("no figures in %s: run `python -m diffcourse_staff.site.figures`", FIGURES_DIR)
    return files


def _add_project_and_library_files(files: Files, config, course) -> None:
    """The mini project's page and downloads; the library's API pages and wheel once public."""
    from diffcourse_staff.projects.starter import EXAMPLE, starter_zip, template_zip, tracks

    guide = course.path.parent / MINI_PROJECT_GUIDE
    if not guide.is_file():
        raise PluginError(f"the mini project guide {guide} is missing")
    files.append(File.generated(config, MINI_PROJECT_URI, abs_src_path=str(guide)))
    if project_released(course):  # the starters need the library, public by then
        for track in (*tracks(), EXAMPLE):
            zipped = starter_zip(track, PROJECT_DOWNLOADS_DIR)
            uri = site_download(zipped.name)
            files.append(File.generated(config, uri, abs_src_path=str(zipped)))
        template = template_zip(PROJECT_DOWNLOADS_DIR)
        uri = site_download(template.name)
        files.append(File.generated(config, uri, abs_src_path=str(template)))
    library = _state["library"]
    if library.published:
        for module, _ in library_modules():
            files.append(File.generated(config, api_uri(module), content=api_page(module)))
        if library.wheel is not None:
            uri = site_download(library.wheel.name)
            files.append(File.generated(config, uri, abs_src_path=str(library.wheel)))


def on_page_markdown(markdown, page, config, files):
    course = _state["course"]
    uri = page.file.src_uri
    ctx = PageContext(
        course=course,
        page_uri=uri,
        page_uris=frozenset(f.src_uri for f in files),
        downloads=_downloads_mode(),
        grading_reports=_state["grading_reports"],
    )
    try:
        markdown = expand_macros(markdown, ctx)
        if any(lec.notes == uri for lec in course.lectures):
            head, sep, rest = markdown.partition("\n")
            if not head.startswith("# "):
                raise MacroError("lecture notes must start with a '# Title' line")
            markdown = f"{head}\n\n{lecture_header(course, uri)}\n{rest}"
    except MacroError as e:
        raise PluginError(f"{uri}: {e}") from None
    return markdown


def on_post_build(config):
    es5 = NODE_MODULES / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise PluginError(f"MathJax is missing ({es5}): run `make node-deps` (npm ci)")
    dest = Path(config.site_dir) / "assets" / "mathjax"
    for part in MATHJAX_PARTS:
        src = es5 / part
        if src.is_dir():
            shutil.copytree(src, dest / part, dirs_exist_ok=True)
        else:
            (dest / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / part)
