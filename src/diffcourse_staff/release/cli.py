"""Command line of the release, and the course-level operations it runs."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from pathlib import Path

from diffcourse_staff.course import (
    DEFAULT_COURSE_FILE,
    REPO_ROOT,
    Course,
    CourseFileError,
    load_course,
)
from diffcourse_staff.release.build import (
    BuildOptions,
    BuildResult,
    build_assignment,
    notebook_path,
)
from diffcourse_staff.release.errors import ReleaseError


def build_course(course: Course, only: list[str] | None, opts: BuildOptions) -> list[BuildResult]:
    """Build the notebook assignments of the course (all, or those in `only`), in order."""
    wanted = list(course.notebook_assignments)
    if only:
        known = {a.id for a in course.assignments}
        for aid in only:
            if aid not in known:
                raise ReleaseError(aid, f"no such assignment in {course.path}")
            if aid not in {a.id for a in wanted}:
                raise ReleaseError(aid, "has no notebook in course.yml: nothing to build")
        wanted = [a for a in wanted if a.id in only]
    return [build_assignment(course, a, opts) for a in wanted]


# A handout published on the site, as the site build names it: the student zip, or the
# student notebook alone (what the problem-set page's "Open in Colab" opens).
_SITE_DOWNLOAD = re.compile(r"downloads/([a-z0-9_]+)(?:-student\.zip!|\.ipynb$)")
# Evidence that another assignment's handout gives away a secret: single generic code
# lines (a loop header, a dtype cast) recur across problem sets by chance.
CROSS_ASSIGNMENT_MIN_SOLUTION_LINES = 2


def check_site(course: Course, site: Path, now: dt.datetime | None = None) -> list[str]:
    """Leak scan of the built site for every assignment not yet due; returns the problems.

    Pages are public from the start, so any secret of an assignment not due at `now`
    found there is a leak. A student zip of assignment X is public from X's release, so
    a secret of another assignment Y counts only if Y is still open then (problem set 3
    may give away problem set 2's DDIM step once problem set 2 is due), and only with
    real evidence: a hidden-test message, or at least two solution lines of one question
    in one file (hidden-test set-up lines are generic across problem sets).
    """
    from diffcourse_staff.release import leaks
    from diffcourse_staff.release.notebook import read_source_notebook

    now = now or dt.datetime.now()
    if not Path(site).exists():
        return []
    problems = []
    for owner in course.notebook_assignments:
        if owner.due <= now:
            continue  # solutions may be published once the assignment is due
        path = notebook_path(course, owner)
        if not path.exists():
            continue
        cross: dict[tuple[str, str | None], list[leaks.Leak]] = {}
        for leak in leaks.scan([Path(site)], [read_source_notebook(path)]):
            match = _SITE_DOWNLOAD.search(leak.where.replace("\\", "/"))
            handout = course.assignment(match.group(1)) if match else None
            if handout is None or handout.id == owner.id:
                problems.append(f"{owner.id} {leak}")
            elif owner.due > handout.release and leak.kind != "hidden test line":
                cross.setdefault((leak.where, leak.question), []).append(leak)
        for found in cross.values():
            solution_lines = [lk for lk in found if lk.kind == "solution line"]
            if len(solution_lines) < len(found) or (
                len(solution_lines) >= CROSS_ASSIGNMENT_MIN_SOLUTION_LINES
            ):
                problems.extend(f"{owner.id} {lk}" for lk in found)
    from diffcourse_staff.release.wheel import site_problems

    return problems + site_problems(course, Path(site), now)


def _course(path: str | None) -> Course:
    try:
        return load_course(Path(path) if path else DEFAULT_COURSE_FILE)
    except CourseFileError as e:
        sys.exit(f"error: {e}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m diffcourse_staff.release", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build and prove assignments into dist/")
    which = b.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every notebook assignment")
    which.add_argument("--only", action="append", metavar="ID", help="one assignment (repeatable)")
    b.add_argument("--no-gates", action="store_true", help="build without grading or scanning")
    b.add_argument("--solutions", action="store_true", help="also write dist/<id>/solutions/")
    b.add_argument("--force", action="store_true", help="ignore the stamps: rebuild everything")
    b.add_argument("--course", help="course file (default: course.yml at the repo root)")
    b.add_argument("--dist", default=str(REPO_ROOT / "dist"), help="output folder")
    b.add_argument("--build", help="raw output and stamps (default: build/ beside --dist)")
    b.add_argument("--guard-seconds", type=float, default=900, help="outer limit per grading")

    s = sub.add_parser("check-site", help="leak scan of the built site")
    s.add_argument("--course")
    s.add_argument("--site", default=str(REPO_ROOT / "dist" / "site"))

    w = sub.add_parser(
        "wheel", help="build the library wheel (refused while it answers an open set)"
    )
    w.add_argument("--course")
    w.add_argument("--dist", default=str(REPO_ROOT / "dist"), help="output folder")
    w.add_argument("--now", type=dt.datetime.fromisoformat, help="pretend it is this time")
    w.add_argument(
        "--when-allowed", action="store_true", help="say when, and exit 0, if it is too early"
    )

    g = sub.add_parser("grade", help="grade one submission with an autograder zip, guarded")
    g.add_argument("zip")
    g.add_argument("submission")
    g.add_argument("--out", default="grading-output")
    g.add_argument("--guard-seconds", type=float, default=900)

    sub.add_parser("notebooks", help="generate <id>.ipynb from <id>.py (release/authoring.py)")

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["notebooks"]:  # its own options: `notebooks --help`
        from diffcourse_staff.release import authoring

        sys.exit(authoring.main(argv[1:]))
    args = parser.parse_args(argv)
    if args.command == "build":
        course = _course(args.course)
        dist = Path(args.dist).resolve()
        build = Path(args.build).resolve() if args.build else dist.parent / "build"
        opts = BuildOptions(
            dist=dist,
            build=build,
            gates=not args.no_gates,
            solutions=args.solutions,
            force=args.force,
            guard_seconds=args.guard_seconds,
        )
        t = time.monotonic()
        try:
            results = build_course(course, args.only, opts)
        except ReleaseError as e:
            sys.exit(f"error: {e}")
        rebuilt = [r.assignment for r in results if r.rebuilt]
        print(
            f"release: {len(results)} assignment(s) in {dist} "
            f"({'rebuilt ' + ', '.join(rebuilt) if rebuilt else 'nothing rebuilt'}; "
            f"{time.monotonic() - t:.1f} s)"
        )
    elif args.command == "check-site":
        course = _course(args.course)
        problems = check_site(course, Path(args.site))
        if problems:
            sys.exit("error: the site leaks:\n" + "\n".join(f"  - {p}" for p in problems))
        print(f"check-site: no leak in {args.site}")
    elif args.command == "wheel":
        from diffcourse_staff.release.wheel import WHEEL_DIST, build_wheel, library_opens

        course = _course(args.course)
        now = args.now or dt.datetime.now()
        if args.when_allowed:
            opens = library_opens(course)
            if opens is not None and now < opens:
                print(f"library wheel: not built, it opens {opens:%Y-%m-%d %H:%M}")
                return
        try:
            wheel = build_wheel(course, Path(args.dist) / WHEEL_DIST, now)
        except ReleaseError as e:
            sys.exit(f"error: {e}")
        print(f"library wheel: {wheel}")
    elif args.command == "grade":
        from diffcourse_staff.release.grade import grade_submission

        out = grade_submission(
            Path(args.submission), Path(args.zip), Path(args.out), args.guard_seconds
        )
        print(json.dumps({q: f"{s:g}/{p:g}" for q, (s, p) in out.scores.items()}, indent=2))
        status = "completed" if out.completed else f"NOT completed: {out.reason}"
        anon = "" if out.peak_anon_mb is None else f" ({out.peak_anon_mb:.0f} MB anonymous)"
        print(
            f"{status}; {out.wall_s:.1f} s wall, {out.cpu_s:.1f} s CPU, "
            f"{out.peak_rss_mb:.0f} MB peak resident{anon}; "
            f"results in {Path(args.out) / 'results.json'}"
        )
