"""The mini project's rubric (mini_projects/rubric.yml) for the site and for Gradescope.

Gradescope has no rubric import, so `gradescope_text` writes what staff type in, one
block per Gradescope assignment (a milestone) and one question per criterion, each
with its three rubric items in Gradescope's positive-scoring form (+points: text).
"""

from __future__ import annotations

from diffcourse_staff.course import Assignment
from diffcourse_staff.projects.data import Criterion, Rubric


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def criteria_table(criteria: tuple[Criterion, ...]) -> str:
    rows = [
        "| Criterion | Points | Full marks | Partial | None |",
        "| --- | ---: | --- | --- | --- |",
    ]
    for c in criteria:
        rows.append(
            f"| {_cell(c.name)} | {c.points} | {_cell(c.full)}"
            f" | ({c.partial_points} of {c.points}) {_cell(c.partial)} | (0) {_cell(c.none)} |"
        )
    rows.append(f"| **Total** | **{sum(c.points for c in criteria)}** | | | |")
    return "\n".join(rows)


def rubric_markdown(project: Assignment, rubric: Rubric, heading: str = "###") -> str:
    """One table per milestone, in the course file's order."""
    parts = []
    for m in project.milestones:
        parts += [
            f"{heading} {m.title} ({m.points} points)",
            "",
            criteria_table(rubric.milestones[m.id]),
            "",
        ]
    return "\n".join(parts).rstrip() + "\n"


def gradescope_text(project: Assignment, rubric: Rubric) -> str:
    lines = [
        f"Gradescope rubrics for {project.title} ({project.points} points).",
        "One Gradescope assignment per milestone; one question per criterion;"
        " positive scoring; items as +points: description.",
        "",
    ]
    for m in project.milestones:
        lines.append(
            f"== {project.title}: {m.title} ({m.points} points, due {m.due:%Y-%m-%d %H:%M})"
        )
        for n, c in enumerate(rubric.milestones[m.id], 1):
            lines += [
                f"Q{n} {c.name} ({c.points} pts)",
                f"  +{c.points}: Full. {' '.join(c.full.split())}",
                f"  +{c.partial_points}: Partial. {' '.join(c.partial.split())}",
                f"  +0: None. {' '.join(c.none.split())}",
            ]
        lines.append("")
    return "\n".join(lines)
