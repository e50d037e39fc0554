"""A problem set's page: its dates, its download, how to work on it and submit it; and
the staff pages' release guide link and grading costs."""

from __future__ import annotations

from diffcourse_staff.course import Assignment
from diffcourse_staff.site.page_context import (
    MacroError,
    PageContext,
    colab_url,
    download_uri,
    escape_cell,
    fmt_datetime,
)


def _notebook_assignment(ctx: PageContext, assignment_id: str) -> Assignment:
    try:
        return ctx.course.assignment(assignment_id)
    except KeyError as e:
        raise MacroError(str(e.args[0])) from None


def assignment_dates(ctx: PageContext, assignment_id: str) -> str:
    a = _notebook_assignment(ctx, assignment_id)
    lp = ctx.course.late_policy
    return "\n".join(
        [
            "| This problem set | |",
            "| --- | --- |",
            f"| Released | {fmt_datetime(a.release)} ({ctx.course.timezone}) |",
            f"| Due | **{fmt_datetime(a.due)}** ({ctx.course.timezone}) |",
            f"| Points | {a.points} |",
            (
                "| Late days | no late work accepted"
                if a.id in lp.no_late_work
                else f"| Late days | at most {lp.max_late_days_per_assignment} free late"
                f" {lp.unit}s on this assignment"
            )
            + f" ([late policy]({ctx.link('syllabus.md')}#late-policy)) |",
        ]
    )


def assignment_download(ctx: PageContext, assignment_id: str) -> str:
    a = _notebook_assignment(ctx, assignment_id)
    uri = download_uri(a.id)
    if uri in ctx.page_uris:
        colab = colab_url(ctx.course, a.id)
        open_in_colab = f" [Open in Colab]({colab}){{ .md-button }}" if colab else ""
        return (
            f"[Download {a.id}-student.zip]({ctx.link(uri)}){{ .md-button .md-button--primary }}"
            f"{open_in_colab} (the notebook, its support files, its public tests and a"
            f" `requirements.txt`)"
        )
    if ctx.downloads == "stub":
        return (
            f'!!! note "Download not built"\n    This preview was built without the'
            f" release: `{a.id}-student.zip` appears here once `make release` has built it."
        )
    raise MacroError(
        f"the student zip of {a.id} is not in the site: build the release first"
        f" (make release), or build a preview with --stub-downloads"
    )


def _first_autograded_question(ctx: PageContext, a: Assignment) -> str:
    """The name of the assignment's first autograded question (for the check example)."""
    from diffcourse_staff.release.authoring import notebook_path
    from diffcourse_staff.release.notebook import read_source_notebook

    src = read_source_notebook(notebook_path(ctx.course, a))
    for q in src.questions:
        if not q.manual:
            return q.name
    raise MacroError(f"{a.id} has no autograded question")


def assignment_howto(ctx: PageContext, assignment_id: str) -> str:
    """How to work on a problem set, check it locally, submit it and run it on Colab."""
    from diffcourse_staff.release.authoring import notebook_name

    a = _notebook_assignment(ctx, assignment_id)
    nb = notebook_name(a) if a.notebook else f"{a.id}.ipynb"
    links = ctx.course.links
    gradescope = f"[Gradescope]({links['gradescope']})" if "gradescope" in links else "Gradescope"
    colab = f"[Google Colab]({links['colab']})" if "colab" in links else "Google Colab"
    example = _first_autograded_question(ctx, a)
    return f"""## Working on your laptop

1. Unzip `{a.id}-student.zip`. It holds `{nb}`, the files the notebook reads, its
   public tests and a `requirements.txt`.
2. Create an environment, install the requirements and start JupyterLab. One command
   installs everything on Linux, macOS and Windows, with the small CPU build of PyTorch
   (no GPU needed):

    ```bash
    cd {a.id}
    python3 -m venv .venv
    source .venv/bin/activate          # Windows: .venv\\Scripts\\activate
    python -m pip install -r requirements.txt
    jupyter lab {nb}
    ```

3. Run the notebook from the top. Each function you write raises
   `NotImplementedError` naming its question until you replace that line with your
   code; type your written answers in the answer cells (Markdown with `$...$` math).

## Checking your work

`grader.check("{example}")` in the notebook runs the **public** tests of a question, and
`grader.check_all()` runs all of them. Public tests only catch the shape, type and
simplest mistakes: the **hidden** tests, which run on Gradescope after the deadline,
decide most of the points; their results appear on Gradescope once the grades are
published. Test your code yourself on cases you can work out by hand. A bug in one
function costs only that function's points: when a question's hidden tests call your
other functions, the grader uses the reference implementation of those instead.
Before you submit, restart the kernel and run all cells: the autograder runs your
notebook from top to bottom, and a cell that runs longer than {a.cell_timeout} seconds
is stopped (it and the questions that depend on it get no points).

## Submitting

On {gradescope} the problem set has two assignments, and you submit to both:

- **{a.title} (code)**: upload `{nb}` (or the zip made by the notebook's last
  cell, `grader.export()`). The autograder grades the coding questions.
- **{a.title} (written)**: upload a PDF of the notebook with your written answers. In
  Jupyter or Colab, use your browser's *File > Print > Save as PDF*; assign the pages of
  each question when Gradescope asks.

You can submit as often as you like; the last submission counts, and its time decides
any late days.

## Running on Colab

If your laptop cannot run the notebook, use {colab}: *Open in Colab* above opens
the notebook there (or *File > Upload notebook* and choose `{nb}` from the zip). Run
the notebook's set-up cell first: on Colab it downloads the problem set's other files
from this site and installs its packages; then carry on as on a laptop. Colab forgets
your work when the session ends: download your notebook (*File > Download > Download
.ipynb*) before you close it, and submit that file."""


def release_guide(ctx: PageContext) -> str:
    """A link to the staff release guide (site/staff/release-guide.md, by the release's author)."""
    uri = "staff/release-guide.md"
    if uri in ctx.page_uris:
        return f"[release guide]({ctx.link(uri)})"
    return "release guide (site/staff/release-guide.md, not written yet)"


def grading_costs(ctx: PageContext) -> str:
    """What grading each reference cost at the last release, and the Gradescope settings."""
    rows = [
        "| Problem set | Reference score | CPU time | Wall time | Peak memory, resident"
        " (anonymous) | Gradescope memory | Timeout | CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for a in ctx.course.notebook_assignments:
        report = ctx.grading_reports.get(a.id)
        if report is None:
            rows.append(f"| {a.id} | not measured yet: run `make release` | | | | | | |")
            continue
        ref, gs = report["reference"], report["gradescope"]
        anon = ref.get("peak_anon_mb")
        memory = f"{ref['peak_rss_mb']:.0f} MB" + ("" if anon is None else f" ({anon:.0f} MB)")
        rows.append(
            f"| {a.id} | {ref['total']:g} / {ref['possible']:g} | {ref['cpu_s']:.0f} s"
            f" | {ref['wall_s']:.0f} s | {memory} | {gs['memory_mb']} MB"
            f" | {gs['timeout_minutes']} min | {escape_cell(gs['cpu'])} |"
        )
    return "\n".join(rows)


def assignment_title(ctx: PageContext, assignment_id: str) -> str:
    return _notebook_assignment(ctx, assignment_id).title
