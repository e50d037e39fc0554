"""Staff outputs of a graded class: scores.csv and a report (markdown + PNG histogram).

Both are made from the per-submission folders alone (results.json and
grading.json) plus submissions.json, so the same merge step serves one machine
and the shards of a cluster run (`merge` reads several output folders).

scores.csv has one row per submitter (a group submission gives each member the
group's scores): SID, Email, Name, Total, Max Points, one column per question,
Outcome, Submission. The report gives pass rates per question, the score
histogram, the slowest submissions, every submission not graded cleanly, and,
when Gradescope's "Download Grades" CSV is given, who gains or loses points and
on which question. The report names submissions by their key, never by name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from diffcourse_staff.grading_batch.outcome import scores_of

SLOWEST = 10


class OutputsError(ValueError):
    pass


def collect(folders: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(one row per submission, one row per submitter, question names) from output folders."""
    subs, people, questions = [], [], {}
    for folder in folders:
        records = json.loads((folder / "submissions.json").read_text(encoding="utf-8"))
        for rec in records:
            sub_dir = folder / "submissions" / rec["key"]
            results_path, meta_path = sub_dir / "results.json", sub_dir / "grading.json"
            if not results_path.is_file() or not meta_path.is_file():
                row = {"key": rec["key"], "outcome": "missing", "reason": "not graded yet"}
                row |= {"score": 0.0, "max_score": float("nan"), "wall_s": float("nan")}
                scores = {}
            else:
                results = json.loads(results_path.read_text(encoding="utf-8"))
                row = json.loads(meta_path.read_text(encoding="utf-8"))
                scores = scores_of(results)
            scores = {q: sp for q, sp in scores.items() if sp[1] > 0}  # not the runner's notes
            for q, (_, possible) in scores.items():
                questions.setdefault(q, possible)
            row |= {f"q:{q}": s for q, (s, _) in scores.items()}
            row["gradescope_score"] = rec.get("gradescope_score")
            subs.append(row)
            for p in rec["submitters"] or [{"name": "", "sid": rec["key"], "email": ""}]:
                people.append({"SID": p["sid"], "Email": p["email"], "Name": p["name"]} | row)
    if not subs:
        raise OutputsError(f"no submissions found in {[str(f) for f in folders]}")
    return pd.DataFrame(subs), pd.DataFrame(people), list(questions)


def write_scores_csv(people: pd.DataFrame, questions: list[str], path: Path) -> None:
    table = people.rename(columns={"score": "Total", "max_score": "Max Points"})
    table = table.rename(columns={f"q:{q}": q for q in questions})
    table = table.rename(columns={"outcome": "Outcome", "key": "Submission"})
    cols = ["SID", "Email", "Name", "Total", "Max Points", *questions, "Outcome", "Submission"]
    table[[c for c in cols if c in table]].to_csv(path, index=False)


def read_gradescope_csv(path: Path, questions: list[str]) -> pd.DataFrame:
    """SID, Total Score and the question columns we can match, from a Download Grades CSV."""
    table = pd.read_csv(path, dtype={"SID": str})
    for col in ("SID", "Total Score"):
        if col not in table:
            raise OutputsError(f"{path}: no {col!r} column (is it Gradescope's Download Grades?)")
    keep = {"SID": "SID", "Total Score": "gs_total"}
    for col in table.columns:  # question columns look like "1.1: q1a (2.0 pts)" or "q1a (2.0 pts)"
        for q in questions:
            if re.search(rf"(?<![A-Za-z0-9]){re.escape(q)}(?![A-Za-z0-9])", str(col)):
                keep[col] = f"gs:{q}"
    return table[list(keep)].rename(columns=keep)


def compare(people: pd.DataFrame, gs: pd.DataFrame, questions: list[str]) -> pd.DataFrame:
    """Per student: our total, Gradescope's, the difference, and the questions that differ."""
    merged = people.merge(gs, on="SID", how="outer", indicator=True)
    rows = []
    for _, r in merged.iterrows():
        ours = r.get("score") if r["_merge"] != "right_only" else float("nan")
        theirs = r.get("gs_total") if r["_merge"] != "left_only" else float("nan")
        changed = [
            f"{q} {r[f'gs:{q}']:g}->{r[f'q:{q}']:g}"
            for q in questions
            if f"gs:{q}" in r
            and f"q:{q}" in r
            and pd.notna(r[f"gs:{q}"])
            and pd.notna(r[f"q:{q}"])
            and abs(float(r[f"gs:{q}"]) - float(r[f"q:{q}"])) > 1e-9
        ]
        where = {
            "both": "",
            "left_only": "not in Gradescope's CSV",
            "right_only": "not graded here",
        }
        rows.append(
            {
                "SID": r["SID"],
                "ours": ours,
                "gradescope": theirs,
                "delta": (ours - theirs) if pd.notna(ours) and pd.notna(theirs) else float("nan"),
                "questions": ", ".join(changed) or where[r["_merge"]],
            }
        )
    return pd.DataFrame(rows)


def histogram(subs: pd.DataFrame, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    possible = subs["max_score"].max()
    bins = 20 if pd.notna(possible) and possible > 0 else 10
    ax.hist(subs["score"].astype(float), bins=bins, range=(0, possible or 1), color="#3b6ea5")
    ax.set_xlabel("autograded score")
    ax.set_ylabel("submissions")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "(none)\n"
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    for _, r in df.iterrows():
        cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in r]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_report(
    folders: list[Path], dest: Path, title: str, gradescope_csv: Path | None = None
) -> dict:
    """scores.csv, report.md and histogram.png in `dest`; returns the counts per outcome."""
    subs, people, questions = collect(folders)
    dest.mkdir(parents=True, exist_ok=True)
    write_scores_csv(people, questions, dest / "scores.csv")
    histogram(subs, dest / "histogram.png", title)
    counts = subs["outcome"].value_counts().to_dict()
    rates = []
    for q in questions:
        col = subs.get(f"q:{q}")
        possible = max(float(col.max()), 0.0) if col is not None else 0.0
        full = subs[f"q:{q}"].fillna(0) if col is not None else pd.Series(dtype=float)
        rates.append(
            {
                "question": q,
                "full marks": f"{(full >= _max_points(folders, q) - 1e-9).mean():.0%}",
                "mean": float(full.mean()),
                "max seen": possible,
            }
        )
    unclean = subs[subs["outcome"] != "graded"][["key", "outcome", "reason"]]
    slow = subs.sort_values("wall_s", ascending=False).head(SLOWEST)
    slow = slow[["key", "wall_s", "peak_memory_mb", "outcome"]]
    parts = [
        f"# {title}\n",
        f"{len(subs)} submissions ({len(people)} students): "
        + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        + ".\n",
        f"Mean score {subs['score'].mean():.2f} of {subs['max_score'].max():g}; "
        f"median {subs['score'].median():.2f}.\n",
        "![score histogram](histogram.png)\n",
        "## Pass rate per question\n",
        _md_table(pd.DataFrame(rates)),
        f"## Slowest {SLOWEST} submissions\n",
        _md_table(slow),
        "## Not graded cleanly (check each by hand)\n",
        _md_table(unclean),
    ]
    if gradescope_csv is not None:
        diff = compare(people, read_gradescope_csv(gradescope_csv, questions), questions)
        changed = diff[
            (diff["delta"].abs() > 1e-9) | diff["delta"].isna() | (diff["questions"] != "")
        ]
        diff.to_csv(dest / "gradescope-comparison.csv", index=False)
        parts += [
            "## Compared with Gradescope\n",
            f"{int((diff['delta'] > 1e-9).sum())} students gain points, "
            f"{int((diff['delta'] < -1e-9).sum())} lose points, "
            f"{int((diff['delta'].abs() <= 1e-9).sum())} unchanged; "
            "per student in gradescope-comparison.csv (SIDs only).\n",
            _md_table(changed.drop(columns=["SID"]).reset_index(drop=True)),
        ]
    (dest / "report.md").write_text("\n".join(parts), encoding="utf-8")
    return counts


def _max_points(folders: list[Path], question: str) -> float:
    for folder in folders:
        for results in (folder / "submissions").glob("*/results.json"):
            for q, (_, possible) in scores_of(json.loads(results.read_text())).items():
                if q == question:
                    return possible
    return 0.0
