"""Assign presentation papers from ranked preferences, and write the schedule.

The preferences are a CSV with a header `student,choice1,choice2,...`: one row per
student, a student id and paper ids (mini_projects/papers.yml) in order of preference.
The assignment minimises the sum of squared ranks (first choice 0, second 1, ...;
a paper the student did not rank costs more than any ranked one), so one student's
fifth choice is not traded for another's move from second to first: it is fair in the
sense of rank-maximal with a penalty on bad outcomes. It is deterministic: ties are
broken by a fixed order of students drawn from `seed`. Each paper goes to at most
`max_per_paper` students (1: no paper twice).

Student ids are student data: the outputs are refused inside the course repository.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from diffcourse_staff.course import REPO_ROOT, Course
from diffcourse_staff.projects.data import Papers, load_papers


class PreferenceError(ValueError):
    """A problem in the preferences CSV, naming the file, the line and what is wrong."""


@dataclass(frozen=True)
class Assignment:
    student: str
    paper: str
    rank: int | None  # 1 = first choice; None = a paper the student did not rank


def read_preferences(path: Path, paper_ids: set[str]) -> dict[str, list[str]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PreferenceError(f"{path}: no such file") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not rows[0] or rows[0][0].strip().lower() != "student":
        raise PreferenceError(f"{path}: line 1: the header must be student,choice1,choice2,...")
    prefs: dict[str, list[str]] = {}
    for line, row in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        student, choices = cells[0], [c for c in cells[1:] if c]
        if not student:
            raise PreferenceError(f"{path}: line {line}: no student id")
        if student in prefs:
            raise PreferenceError(f"{path}: line {line}: student {student!r} appears twice")
        if not choices:
            raise PreferenceError(f"{path}: line {line}: student {student!r} ranks no paper")
        for column, paper in enumerate(choices, start=2):
            if paper not in paper_ids:
                raise PreferenceError(
                    f"{path}: line {line}, column {column}: unknown paper {paper!r}"
                    f" (papers.yml ids: {', '.join(sorted(paper_ids))})"
                )
        if len(set(choices)) != len(choices):
            raise PreferenceError(f"{path}: line {line}: student {student!r} ranks a paper twice")
        prefs[student] = choices
    if not prefs:
        raise PreferenceError(f"{path}: no students")
    return prefs


def assign(
    prefs: dict[str, list[str]], paper_ids: list[str], max_per_paper: int = 1, seed: int = 0
) -> list[Assignment]:
    """The optimal assignment (see the module docstring), one Assignment per student."""
    if max_per_paper < 1:
        raise ValueError(f"max_per_paper must be at least 1, got {max_per_paper}")
    students = sorted(prefs)
    random.Random(seed).shuffle(students)  # the fixed tie-breaking order
    slots = [p for p in paper_ids for _ in range(max_per_paper)]
    if len(students) > len(slots):
        raise ValueError(
            f"{len(students)} students but {len(paper_ids)} papers x {max_per_paper}"
            f" = {len(slots)} places: add papers or allow --max-per-paper"
        )
    unranked = (max(len(c) for c in prefs.values()) + 1) ** 2
    cost = np.full((len(students), len(slots)), float(unranked))
    for i, s in enumerate(students):
        for rank, paper in enumerate(prefs[s]):
            for j, slot in enumerate(slots):
                if slot == paper:
                    cost[i, j] = rank**2
        cost[i] += np.arange(len(slots)) * 1e-9 + i * 1e-12  # deterministic among equal costs
    rows, cols = linear_sum_assignment(cost)
    out = []
    for i, j in zip(rows, cols, strict=True):
        s, paper = students[i], slots[j]
        rank = prefs[s].index(paper) + 1 if paper in prefs[s] else None
        out.append(Assignment(s, paper, rank))
    return sorted(out, key=lambda a: a.student)


def schedule(assignments: list[Assignment], papers: Papers) -> list[tuple[str, int, Assignment]]:
    """(day, order within the day, assignment): talks in the paper list's order, days filled."""
    order = {p.id: n for n, p in enumerate(papers.papers)}
    talks = sorted(assignments, key=lambda a: (order[a.paper], a.student))
    pres = papers.presentations
    if len(talks) > len(pres.days) * pres.per_day:
        raise ValueError(
            f"{len(talks)} talks but {len(pres.days)} days x {pres.per_day} per day: add days"
        )
    return [
        (pres.days[n // pres.per_day].isoformat(), n % pres.per_day + 1, a)
        for n, a in enumerate(talks)
    ]


def assign_from_csv(
    course: Course, prefs_csv: Path, out: Path, max_per_paper: int = 1, seed: int = 0
) -> str:
    """Read, assign, write out/assignment.csv and out/schedule.md; return a summary line."""
    out = Path(out).resolve()
    if out == REPO_ROOT or REPO_ROOT in out.parents:
        raise ValueError(f"{out} is inside the course repository: student data never enters git")
    papers = load_papers(course)
    ids = [p.id for p in papers.papers]
    prefs = read_preferences(prefs_csv, set(ids))
    result = assign(prefs, ids, max_per_paper, seed)
    talks = schedule(result, papers)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "assignment.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "paper", "rank"])
        for a in result:
            w.writerow([a.student, a.paper, a.rank or "unranked"])
    titles = {p.id: p for p in papers.papers}
    lines = [f"# Paper presentations ({papers.presentations.minutes} minutes each)", ""]
    for day in dict.fromkeys(d for d, _, _ in talks):
        lines += [f"## {day}", "", "| # | Student | Paper |", "| ---: | --- | --- |"]
        for d, n, a in talks:
            if d == day:
                p = titles[a.paper]
                lines.append(f"| {n} | {a.student} | [{p.title}]({p.link}) ({p.year}) |")
        lines.append("")
    (out / "schedule.md").write_text("\n".join(lines), encoding="utf-8")
    ranks = [a.rank for a in result]
    firsts = sum(r == 1 for r in ranks)
    unranked = sum(r is None for r in ranks)
    return (
        f"{len(result)} students: {firsts} got their first choice, {unranked} an unranked"
        f" paper; wrote {out / 'assignment.csv'} and {out / 'schedule.md'}"
    )
