"""What `make grades` writes: the grade table, the registrar upload, one report per student
and the staff summary. Everything here holds student data: it goes to the git-ignored
output folder only, never to the site or a log.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import mistune
import pandas as pd

from diffcourse_staff.course import Course
from diffcourse_staff.grades.engine import Grader, StudentResult

REPORT_CSS = (
    "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;}"
    "table{border-collapse:collapse;margin:1rem 0;}"
    "th,td{border:1px solid #999;padding:.25rem .5rem;text-align:left;}"
)


def _hms(seconds: int) -> str:
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(grader: Grader, fraction: float) -> str:
    if grader.scheme.scheme == "percent":
        return f"{100 * fraction:.2f}%"
    return f"{fraction * grader.total:.2f} / {grader.total:g} points"


def final_table(grader: Grader, results: list[StudentResult]) -> pd.DataFrame:
    """One row per student: SID, name, email, components, assignments, late units, grade."""
    unit = grader.policy.unit
    rows = []
    for r in results:
        row = {"SID": r.sid, "Name": r.name, "Email": r.email}
        for c in grader.components:
            f = r.components[c.name]
            if grader.scheme.scheme == "percent":
                row[f"{c.name} (%)"] = None if f is None else round(100 * f, 4)
            else:
                row[f"{c.name} (points of {c.weight:g})"] = (
                    None if f is None else round(c.weight * f, 4)
                )
        for a in r.assignments:
            row[f"{a.id} (%)"] = "excused" if a.excused else round(100 * a.fraction, 4)
        row[f"Late {unit}s used"] = r.free_used
        row["Final (%)"] = round(r.final_percent, 4)
        if grader.scheme.scheme == "points":
            row[f"Final (points of {grader.total:g})"] = round(r.final_value, 4)
        row["Grade"] = r.grade
        row["Pending"] = "; ".join(r.pending)
        rows.append(row)
    return pd.DataFrame(rows)


def ledger_table(grader: Grader, results: list[StudentResult]) -> pd.DataFrame:
    """Every late assignment of every student: lateness, free units spent, units charged."""
    unit = grader.policy.unit
    rows = []
    for r in results:
        for a in r.assignments:
            if not a.late_units or a.excused:
                continue
            rows.append(
                {
                    "SID": r.sid,
                    "Assignment": a.id,
                    f"Late {unit}s": a.late_units,
                    f"Extension {unit}s": a.extension.extra_units,
                    f"Free {unit}s spent": a.free_units,
                    f"{unit.capitalize()}s charged": max(p.extra_units for p in a.parts),
                    "How": "; ".join(f"{p.label}: {p.rule}" for p in a.parts if p.late_units),
                    "Score after lateness (%)": round(100 * a.fraction, 4),
                }
            )
    return pd.DataFrame(rows)


def registrar_table(results: list[StudentResult]) -> pd.DataFrame:
    """The shape registrars and LMS grade imports take: ID, name, final grade."""
    return pd.DataFrame(
        {
            "Student ID": [r.sid for r in results],
            "Student Name": [r.name for r in results],
            "Final Grade": [r.grade for r in results],
        }
    )


def rules_text(grader: Grader) -> str:
    lp, unit = grader.policy, grader.policy.unit
    lines = [
        f"- Lateness is Gradescope's time past the deadline, less any extension, less"
        f" {lp.grace_minutes} minutes' grace, rounded up to whole {unit}s.",
        f"- {lp.free_late_days} free late {unit}s for the term, at most"
        f" {lp.max_late_days_per_assignment} on one assignment, placed where they raise"
        " your final grade most.",
        f"- Each other late {unit} costs {lp.penalty_percent_per_day:g}% of the"
        + (" score earned." if lp.penalty_basis == "score" else " points possible."),
    ]
    if lp.zero_after is not None:
        lines.append(f"- More than {lp.zero_after} {unit}s late: the work scores 0.")
    if lp.no_late_work:
        lines.append(f"- No late work accepted on: {', '.join(lp.no_late_work)}.")
    lines.append("- Then drops within components, then the weighted aggregation.")
    return "\n".join(lines)


def student_markdown(course: Course, grader: Grader, r: StudentResult) -> str:
    unit = grader.policy.unit
    out = [
        f"# {course.code} {course.term}: grade report",
        "",
        f"**{r.name}** (SID {r.sid}, {r.email})",
        "",
        f"Final grade: **{r.grade}** ({_value(grader, r.final_fraction)})",
        "",
        "## Rules",
        "",
        rules_text(grader),
        "",
        "## Assignments",
        "",
        f"| Assignment | Part | Status | Score | Submitted | Late by (H:M:S) | Late {unit}s"
        " | Earned | How |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for a in r.assignments:
        for p in a.parts:
            score = "" if p.score is None else f"{p.score:g} / {p.max_points:g}"
            status = p.status + (f" (score from {p.replaced_by})" if p.replaced_by else "")
            how = "excused: not counted" if a.excused else p.rule
            if a.extension.extra_units and not a.excused:
                how = f"extension of {a.extension.extra_units} {unit}(s); {how}"
            out.append(
                f"| {_cell(a.id)} | {_cell(p.label)} | {_cell(status)} | {score}"
                f" | {_cell(p.submitted)} | {_hms(p.lateness_s)} | {p.late_units}"
                f" | {p.earned:.2f} | {_cell(how)} |"
            )
    out += ["", "## Free late " + unit + "s", ""]
    spent = [f"{a.id}: {a.free_units}" for a in r.assignments if a.free_units]
    out.append(
        f"Available: {r.free_budget}. Spent: {', '.join(spent) or 'none'}."
        f" Left: {r.free_budget - r.free_used}."
    )
    if r.why:
        out.append("")
        out += [f"- {line}" for line in r.why]
    out += [
        "",
        "## Components",
        "",
        "| Component | Weight | Score | Assignments |",
        "| --- | ---: | ---: | --- |",
    ]
    terms = []
    for c in grader.components:
        f = r.components[c.name]
        weight = f"{c.weight:g}%" if grader.scheme.scheme == "percent" else f"{c.weight:g} points"
        parts = []
        for a in r.assignments:
            if a.component == c.name:
                tag = " (excused)" if a.excused else " (dropped)" if a.dropped else ""
                parts.append(f"{a.id} {100 * a.fraction:.2f}% of {a.points:g}{tag}")
        shown = "excused" if f is None else f"{100 * f:.2f}%"
        out.append(
            f"| {_cell(c.name)} | {weight} | {shown}"
            f" | {_cell(', '.join(parts) or 'participation')} |"
        )
        if f is not None:
            terms.append((c.weight, f))
    weight = sum(w for w, _ in terms)
    formula = " + ".join(f"{w:g} x {100 * f:.2f}%" for w, f in terms)
    out += ["", f"Final: ({formula}) / {weight:g} = {r.final_percent:.2f}%"]
    if grader.scheme.scheme == "points":
        out[-1] += f", that is {r.final_value:.2f} of {grader.total:g} points"
    out += ["", "## Grade", "", band_table(grader), "", f"Your grade: **{r.grade}**."]
    if r.pending:
        out += ["", f"Not graded yet (counted as 0 here): {', '.join(r.pending)}."]
    return "\n".join(out) + "\n"


def band_table(grader: Grader) -> str:
    unit = "%" if grader.scheme.scheme == "percent" else " points"
    rows = ["| Grade | Final grade at least | Also needs |", "| --- | ---: | --- |"]
    for b in grader.scheme.bands:
        needs = ", ".join(f"{name} at least {v:g}{unit}" for name, v in b.component_minimums)
        rows.append(f"| {b.grade} | {b.minimum:g}{unit} | {needs or '-'} |")
    rows.append(f"| {grader.scheme.below} | otherwise | |")
    return "\n".join(rows)


# mistune (with nbconvert already) renders a report in about a millisecond; Python-Markdown
# took 30-70 times longer, most of the time of grading a large course.
_MARKDOWN = mistune.create_markdown(escape=True, plugins=["table"])


def to_html(title: str, body_markdown: str) -> str:
    body = _MARKDOWN(body_markdown)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{REPORT_CSS}</style></head><body>{body}</body></html>\n"
    )


def near_cutoffs(
    grader: Grader, results: list[StudentResult], margin: float
) -> list[tuple[str, float, str]]:
    """(SID, final, the grade just above) for students within `margin` below a band."""
    near = []
    for r in results:
        for b in grader.scheme.bands:
            if b.minimum - margin <= r.final_value < b.minimum:
                near.append((r.sid, r.final_value, b.grade))
    return near


def histogram(grader: Grader, results: list[StudentResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = [r.final_value for r in results]
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
    ax.hist(values, bins=40, range=(0, grader.total), color="#3f51b5")
    for b in grader.scheme.bands:
        ax.axvline(b.minimum, color="#c62828", lw=1, ls="--")
        ax.text(
            b.minimum,
            ax.get_ylim()[1] * 0.97,
            f" {b.grade}",
            color="#c62828",
            va="top",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )
    ax.set_xlabel(
        "final grade (%)" if grader.scheme.scheme == "percent" else "final grade (points)"
    )
    ax.set_ylabel("students")
    ax.set_title(f"Final grades, {len(values)} students")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def summary_markdown(
    course: Course, grader: Grader, results: list[StudentResult], notes: list[str], margin: float
) -> str:
    unit = "%" if grader.scheme.scheme == "percent" else " points"
    finals = pd.Series([r.final_value for r in results], dtype=float)
    grades = pd.Series([r.grade for r in results], dtype=object)
    order = [b.grade for b in grader.scheme.bands] + [grader.scheme.below]
    out = [
        f"# {course.code} {course.term}: grade summary (staff only)",
        "",
        f"{len(results)} students; final grade mean {finals.mean():.2f}{unit}, median"
        f" {finals.median():.2f}{unit}.",
        "",
        "![distribution](grade_distribution.png)",
        "",
        "| Grade | Students |",
        "| --- | ---: |",
    ]
    out += [f"| {g} | {int((grades == g).sum())} |" for g in order]
    out += [
        "",
        "## Assignments (after lateness; excused left out)",
        "",
        "| Assignment | Mean (%) | Median (%) | Late submissions | Free units spent | Pending |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for i, a in enumerate(course.assignments):
        rows = [r.assignments[i] for r in results if not r.assignments[i].excused]
        pct = pd.Series([100 * x.fraction for x in rows], dtype=float)
        late = sum(1 for x in rows if x.late_units)
        free = sum(x.free_units for x in rows)
        pending = sum(1 for x in rows if x.pending)
        out.append(
            f"| {a.id} | {pct.mean():.2f} | {pct.median():.2f} | {late} | {free} | {pending} |"
        )
    near = near_cutoffs(grader, results, margin)
    out += ["", f"## Near a cutoff (within {margin:g}{unit} below)", ""]
    if near:
        out += ["| SID | Final | Just below |", "| --- | ---: | --- |"]
        out += [f"| {sid} | {value:.2f}{unit} | {grade} |" for sid, value, grade in near]
    else:
        out.append("Nobody.")
    out += ["", "## Input notes", ""]
    out += [f"- {n}" for n in notes] or ["- none"]
    return "\n".join(out) + "\n"


def write_all(
    course: Course,
    grader: Grader,
    results: list[StudentResult],
    notes: list[str],
    out_dir: Path,
    margin: float = 1.0,
    html_reports: bool = True,
) -> list[Path]:
    """Write every output into out_dir; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    path = out_dir / "final_grades.csv"
    final_table(grader, results).to_csv(path, index=False)
    written.append(path)
    path = out_dir / "late_day_ledger.csv"
    ledger_table(grader, results).to_csv(path, index=False)
    written.append(path)
    path = out_dir / "registrar_upload.csv"
    registrar_table(results).to_csv(path, index=False)
    written.append(path)
    reports = out_dir / "reports"
    reports.mkdir(exist_ok=True)
    for r in results:
        text = student_markdown(course, grader, r)
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", r.sid)
        (reports / f"{stem}.md").write_text(text, encoding="utf-8")
        if html_reports:
            (reports / f"{stem}.html").write_text(
                to_html(f"Grade report {r.sid}", text), encoding="utf-8"
            )
    written.append(reports)
    histogram(grader, results, out_dir / "grade_distribution.png")
    written.append(out_dir / "grade_distribution.png")
    text = summary_markdown(course, grader, results, notes, margin)
    (out_dir / "summary.md").write_text(text, encoding="utf-8")
    (out_dir / "summary.html").write_text(to_html("Grade summary", text), encoding="utf-8")
    written.append(out_dir / "summary.md")
    return written
