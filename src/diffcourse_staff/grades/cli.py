"""`python -m diffcourse_staff.grades` (`make grades`): final grades from the exports in a folder.

    python -m diffcourse_staff.grades                          # grades/ -> grades/out/
    python -m diffcourse_staff.grades --inputs DIR --out DIR --course course.yml
    python -m diffcourse_staff.grades --what-if "ps3:written=28" --what-if "Mini project=90%"

`--what-if PART=SCORE` prints, for every student whose score of PART is not graded yet
(Status Ungraded), the final grade now and if that score arrived. PART is
`<assignment id>:<part>` or the Gradescope assignment's name; SCORE is points, a
percentage of the part's Max Points ("90%") or "max". Only SIDs are printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from diffcourse_staff.course import DEFAULT_COURSE_FILE, REPO_ROOT, CourseFileError, load_course
from diffcourse_staff.grades.engine import Grader, with_pending_score
from diffcourse_staff.grades.errors import GradesInputError
from diffcourse_staff.grades.inputs import Inputs, read_inputs
from diffcourse_staff.grades.reports import write_all

DEFAULT_INPUTS = REPO_ROOT / "grades"


class WhatIfError(ValueError):
    """A --what-if that names no part or no score."""


def parse_what_if(course, inputs: Inputs, spec: str) -> tuple[str, str, float]:
    """(assignment id, part, points) from "ps1:written=25", "Name (code)=90%" or "...=max"."""
    target, sep, score = spec.rpartition("=")
    if not sep or not target:
        raise WhatIfError(f"--what-if {spec!r}: expected PART=SCORE")
    found = None
    for aid, parts in course.grading_scheme.parts:
        for p in parts:
            if target in (f"{aid}:{p.part}", p.gradescope):
                found = (aid, p.part)
    if found is None:
        known = [f"{aid}:{p.part}" for aid, parts in course.grading_scheme.parts for p in parts]
        raise WhatIfError(f"--what-if {spec!r}: no part {target!r} (known: {', '.join(known)})")
    maximum = inputs.max_points.get(found)
    score = score.strip()
    try:
        if score == "max" or score.endswith("%"):
            if maximum is None:
                raise WhatIfError(
                    f"--what-if {spec!r}: no export gives the Max Points of {target!r}"
                )
            points = maximum if score == "max" else maximum * float(score[:-1]) / 100
        else:
            points = float(score)
    except ValueError:
        raise WhatIfError(
            f"--what-if {spec!r}: {score!r} is not points, a percentage or max"
        ) from None
    return found[0], found[1], points


def what_if_lines(grader: Grader, inputs: Inputs, aid: str, part: str, points: float) -> list[str]:
    changed_inputs, sids = with_pending_score(inputs, aid, part, points)
    unit = "%" if grader.scheme.scheme == "percent" else " points"
    lines = [f"what if {aid}:{part} = {points:g} arrives: {len(sids)} pending student(s)"]
    for sid in sids:
        before = grader.grade_student(inputs, sid)
        after = grader.grade_student(changed_inputs, sid)
        lines.append(
            f"  {sid}: {before.final_value:.2f}{unit} {before.grade} -> "
            f"{after.final_value:.2f}{unit} {after.grade}"
        )
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m diffcourse_staff.grades",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--course", type=Path, default=DEFAULT_COURSE_FILE, help="course file")
    parser.add_argument("--inputs", type=Path, default=DEFAULT_INPUTS, help="input folder")
    parser.add_argument("--out", type=Path, help="output folder (default: INPUTS/out)")
    parser.add_argument("--what-if", action="append", default=[], metavar="PART=SCORE")
    parser.add_argument(
        "--near", type=float, default=1.0, help="list students this close below a cutoff"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        course = load_course(args.course)
        inputs = read_inputs(course, args.inputs)
        grader = Grader(course)
        if args.what_if:
            for spec in args.what_if:
                aid, part, points = parse_what_if(course, inputs, spec)
                print("\n".join(what_if_lines(grader, inputs, aid, part, points)))
            return 0
        results = grader.grade_all(inputs)
        out = args.out or args.inputs / "out"
        write_all(course, grader, results, inputs.notes, out, margin=args.near)
    except (CourseFileError, GradesInputError, WhatIfError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for note in inputs.notes:
        print(f"note: {note}")
    print(
        f"grades: {len(results)} students graded in {time.perf_counter() - start:.1f} s"
        f" -> {out} (final_grades.csv, late_day_ledger.csv, registrar_upload.csv, reports/,"
        " summary.md)"
    )
    return 0
