"""Grade the hostile catalog through both paths, in parallel, and print the outcome matrix.

    .venv/bin/python tests/grading/hostile/matrix.py [--jobs N] [--only ID,...]
        [--class CLASS,...] [--paths gradescope,local] [--out matrix.json]

Builds ps1 and ps3 into a temporary folder, grades every chosen case (each in its own
box, see gradescope_harness.py), prints one line per case and path (ok, or the first
problem) with its wall time, and writes the whole matrix as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalog_run import PATHS, CatalogSession, build_dist, zip_has_runner  # noqa: E402
from gradescope_harness import box_unavailable  # noqa: E402
from submissions import load_catalog  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", help="comma-separated case ids")
    parser.add_argument("--class", dest="classes", help="comma-separated classes")
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--out", default="hostile-matrix.json")
    parser.add_argument("--workdir", help="keep the built zips and submissions here")
    parser.add_argument(
        "--write-failures", metavar="PATH", help="write the failing (case, path) pairs there"
    )
    args = parser.parse_args(argv)
    if why := box_unavailable():
        print(f"cannot grade here: {why}", file=sys.stderr)
        return 2
    cases = load_catalog().cases
    if args.only:
        wanted = set(args.only.split(","))
        if unknown := wanted - {c.id for c in cases}:
            parser.error(f"no such case(s): {sorted(unknown)}")
        cases = [c for c in cases if c.id in wanted]
    if args.classes:
        cases = [c for c in cases if c.cls in args.classes.split(",")]
    paths = args.paths.split(",")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="hostile-matrix-"))
    dist = build_dist(workdir)
    runner = {aid: zip_has_runner(dist.zip(aid)) for aid in ("ps1", "ps3")}
    print(f"zips in {dist.root}; isolated runner in the zip: {runner}", flush=True)
    session = CatalogSession(dist, workdir)
    rows, start = [], time.monotonic()
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(session.run_case, c, p): (c, p) for c in cases for p in paths}
        for future in as_completed(futures):
            case, path = futures[future]
            try:
                row = future.result().summary()
            except Exception as e:  # a harness failure is a row too, never a lost case
                row = {
                    "case": case.id,
                    "class": case.cls,
                    "set": case.set,
                    "path": path,
                    "ok": False,
                    "wall_s": None,
                    "problems": [f"harness error: {e}"],
                }
            rows.append(row)
            first = "ok" if row["ok"] else row["problems"][0][:150]
            print(f"{row['case']:34} {path:10} {row['wall_s'] or 0:6.0f} s  {first}", flush=True)
    rows.sort(key=lambda r: (r["case"], r["path"]))
    failed = [r for r in rows if not r["ok"]]
    print(
        f"{len(rows) - len(failed)}/{len(rows)} ok in {time.monotonic() - start:.0f} s; "
        f"worst {max((r['wall_s'] or 0) for r in rows):.0f} s"
    )
    Path(args.out).write_text(json.dumps({"runner": runner, "rows": rows}, indent=1))
    if args.write_failures:
        lines = [f"{r['case']} {r['path']}  # {r['problems'][0][:90]}" for r in failed]
        Path(args.write_failures).write_text("\n".join(lines) + "\n")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
