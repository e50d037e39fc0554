"""The results table of the report, written from results/results.json between two markers.

results.json holds {"rows": [{"method": ..., "metric": ..., "value": ...}, ...]}; the
table between `<!-- results:begin -->` and `<!-- results:end -->` in report.md is
replaced by one row per method and metric. The staff's reproducibility check reads the same
table back (`read`), so keep the markers and the format.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
ROW = re.compile(
    r"^\|\s*(?P<method>[^|]+?)\s*\|\s*(?P<metric>[^|]+?)\s*\|\s*(?P<value>[^|]+?)\s*\|$"
)


def table(results: dict) -> str:
    lines = ["| Method | Metric | Value |", "| --- | --- | ---: |"]
    for row in results["rows"]:
        lines.append(f"| {row['method']} | {row['metric']} | {row['value']:.4g} |")
    return "\n".join(lines)


def fill(report: Path, results: dict) -> None:
    """Replace the table between the markers of report (which must have both, once)."""
    text = Path(report).read_text(encoding="utf-8")
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"{report}: needs one '{BEGIN}' line and one '{END}' line after it")
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    Path(report).write_text(f"{head}{BEGIN}\n{table(results)}\n{END}{tail}", encoding="utf-8")


def key(method: str, metric: str) -> str:
    return f"{method} / {metric}"


def read(report: Path) -> dict[str, float]:
    """{"method / metric": value} of the table between the markers (what the report claims)."""
    text = Path(report).read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise ValueError(f"{report}: no results table between '{BEGIN}' and '{END}'")
    body = text.split(BEGIN, 1)[1].split(END, 1)[0]
    values: dict[str, float] = {}
    for line in body.strip().splitlines()[2:]:
        m = ROW.match(line.strip())
        if not m:
            raise ValueError(f"{report}: cannot read the results row {line.strip()!r}")
        try:
            values[key(m["method"], m["metric"])] = float(m["value"])
        except ValueError:
            raise ValueError(f"{report}: {m['method']!r} has no number: {m['value']!r}") from None
    return values


if __name__ == "__main__":
    import sys

    fill(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text(encoding="utf-8")))
