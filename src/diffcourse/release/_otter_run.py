"""Subprocess entry point: grade one submission with `otter run`'s own function.

    python -m diffcourse.release._otter_run ZIP SUBMISSION OUTDIR

Calls otter.run.main, the function behind the `otter run` command, which
unpacks the zip into a Gradescope-like folder and grades without Docker, then
writes OUTDIR/results.json (Otter's, what Gradescope shows) and
OUTDIR/cases.json (every test case: passed or not, hidden or not, its message),
which the gates need to name the test case at fault. The grading plugin is
imported from PYTHONPATH, which the caller points at the copy inside the zip.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    zip_path, submission, out_dir = argv
    from otter.run import main as otter_run

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = otter_run(submission, autograder=zip_path, output_dir=str(out), no_logo=True)
    cases = {}
    for name, test_file in results.results.items():
        cases[name] = {
            "score": test_file.score,
            "possible": test_file.possible,
            "cases": [
                {
                    "name": r.test_case.name,
                    "hidden": bool(r.test_case.hidden),
                    "passed": bool(r.passed),
                    "message": str(r.message or ""),
                }
                for r in test_file.test_case_results
            ],
        }
    plugin = results.get_plugin_data("diffcourse_grading.GradingGuard")
    payload = {"questions": cases, "plugin": plugin, "total": results.total}
    payload["possible"] = results.possible
    (out / "cases.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
