"""`python -m diffcourse_staff.projects COMMAND`: the mini project's staff commands.

    rubric [--gradescope]           the rubric as Markdown, or as text for Gradescope
    starter TRACK DEST              copy a starter kit (what `make project-starter` runs)
    report REPORT.md                build a report into PDF (HTML without Chromium)
    assign-papers PREFS.csv OUT     assign presentation papers from ranked preferences
    reproduce PROJECT [--limit S]   rerun a project's `make reproduce`, compare its numbers
    check                           validate every data file against course.yml

Errors end with one `error:` line naming the file and the key, and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from diffcourse_staff.course import DEFAULT_COURSE_FILE, CourseFileError, load_course
from diffcourse_staff.projects.data import ProjectDataError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m diffcourse_staff.projects",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--course", type=Path, default=DEFAULT_COURSE_FILE, help="the course file")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("rubric", help="print the rubric")
    r.add_argument("--gradescope", action="store_true", help="as text to type into Gradescope")
    s = sub.add_parser("starter", help="copy a starter kit")
    s.add_argument("track")
    s.add_argument("dest", type=Path)
    b = sub.add_parser("report", help="build a report into PDF")
    b.add_argument("report", type=Path)
    a = sub.add_parser("assign-papers", help="assign papers from ranked preferences")
    a.add_argument("preferences", type=Path, help="CSV: student,choice1,choice2,...")
    a.add_argument("out", type=Path, help="folder for assignment.csv and schedule.md")
    a.add_argument("--max-per-paper", type=int, default=1, help="presenters per paper")
    a.add_argument("--seed", type=int, default=0, help="tie-breaking order of students")
    c = sub.add_parser("reproduce", help="rerun a project and compare its numbers")
    c.add_argument("project", type=Path, help="the project folder (unpacked code archive)")
    c.add_argument("--limit", type=float, default=1800, help="seconds (default 1800)")
    c.add_argument("--rel-tol", type=float, default=0.05, help="relative tolerance")
    c.add_argument("--abs-tol", type=float, default=0.01, help="absolute tolerance")
    c.add_argument("--note", type=Path, help="where to write the note (default: stdout)")
    sub.add_parser("check", help="validate the data files")
    return p


def run(args) -> int:
    course = load_course(args.course)
    if args.command == "rubric":
        from diffcourse_staff.projects.data import load_rubric
        from diffcourse_staff.projects.rubric import gradescope_text, rubric_markdown

        project, rubric = load_rubric(course)
        render = gradescope_text if args.gradescope else rubric_markdown
        print(render(project, rubric))
    elif args.command == "starter":
        from diffcourse_staff.projects.starter import copy_starter

        dest = copy_starter(args.track, args.dest)
        print(f"starter {args.track} copied to {dest}: cd there and run `make help`")
    elif args.command == "report":
        from diffcourse_staff.projects.report import build_report

        path = build_report(args.report)
        if path.suffix == ".html":
            print(f"no Chromium or Chrome found: wrote {path}; print it to PDF from a browser")
        else:
            print(f"wrote {path}")
    elif args.command == "assign-papers":
        from diffcourse_staff.projects.papers import assign_from_csv

        result = assign_from_csv(course, args.preferences, args.out, args.max_per_paper, args.seed)
        print(result)
    elif args.command == "reproduce":
        from diffcourse_staff.projects.reproduce import check_project

        note = check_project(args.project, args.limit, args.rel_tol, args.abs_tol)
        if args.note:
            args.note.write_text(note.markdown(), encoding="utf-8")
            print(f"{note.verdict}: note in {args.note}")
        else:
            print(note.markdown())
        return 0 if note.ok else 3
    elif args.command == "check":
        from diffcourse_staff.projects.data import load_ideas, load_papers, load_rubric

        project, _ = load_rubric(course)
        ideas = load_ideas()
        papers = load_papers(course)
        print(
            f"{project.id}: {len(project.milestones)} milestones with rubrics,"
            f" {len(ideas.ideas)} ideas, {len(papers.papers)} papers: OK"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except (CourseFileError, ProjectDataError, ValueError, FileExistsError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
