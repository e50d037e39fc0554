"""What the isolated runner costs: each set's reference graded through its built zip,
against the same work done in one process (as Otter does it: notebook and tests in the
student's kernel).

    .venv/bin/python bench/grading_cost.py [--sets ps1,ps2,ps3] [--dist DIST]

Builds the sets (no gates, with solutions) unless --dist holds them, then prints per set:
the runner's CPU time (the whole process tree, `release grade`), its call processes and
peak PSS; the CPU time of the in-process baseline (the notebook's cells, then every test
case, in one interpreter with a stub `otter`); and the ratio. Otter's own figures on this
machine when it still graded (ps1 26 s, ps2 19 s, ps3 13 s CPU, issue 11) are printed
for the target: the runner at most 1.5x of them. CPU time grows with the machine's load
(shared caches): read the figures next to the load average printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OTTER_CPU_S = {"ps1": 26.0, "ps2": 19.0, "ps3": 13.0}  # issue 11, measured before the runner
TARGET_RATIO = 1.5

BASELINE = r"""
import ast, doctest, json, sys
from pathlib import Path
from diffcourse_grading.otter_stub import otter_stub
from diffcourse_grading.testing import read_tests
sys.modules["otter"] = otter_stub()
source, notebook = Path(sys.argv[1]), Path(sys.argv[2])
nb = json.loads(notebook.read_text(encoding="utf-8"))
ns = {"__name__": "__main__"}
for cell in nb["cells"]:
    if cell["cell_type"] != "code":
        continue
    src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    src = "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!")))
    try:
        exec(compile(src, "<cell>", "exec"), ns)
    except Exception:
        pass
passed = total = 0
for q in read_tests(source / "tests"):
    for case in q.cases:
        examples = doctest.DocTestParser().get_examples(case.code)
        runner = doctest.DocTestRunner(verbose=False, optionflags=doctest.FAIL_FAST)
        runner.run(doctest.DocTest(examples, dict(ns), q.name, None, 0, None), out=lambda s: None)
        total += 1
        passed += runner.failures == 0
print(json.dumps({"passed": passed, "cases": total}))
"""


def build(sets: list[str], folder: Path) -> Path:
    cmd = [sys.executable, "-m", "diffcourse_staff.release", "build", "--no-gates", "--solutions"]
    for aid in sets:
        cmd += ["--only", aid]
    cmd += ["--dist", str(folder / "dist"), "--build", str(folder / "build")]
    subprocess.run(cmd, check=True, cwd=REPO, capture_output=True)
    return folder / "dist"


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def in_process_cpu(zip_path: Path, notebook: Path, folder: Path) -> tuple[float, dict]:
    source = folder / "baseline-source"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(source)
    env = dict(os.environ, PYTHONPATH=str(source), OMP_NUM_THREADS="1")
    before = children_cpu()
    out = subprocess.run(
        [sys.executable, "-c", BASELINE, str(source), str(notebook)],
        capture_output=True,
        text=True,
        env=env,
        cwd=source / "files" if (source / "files").is_dir() else source,
        check=True,
    )
    return children_cpu() - before, json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="ps1,ps2,ps3")
    parser.add_argument("--dist", help="a dist/ with the sets' zips and solutions already")
    args = parser.parse_args()
    sets = args.sets.split(",")
    from diffcourse_staff.release.grade import grade_submission
    from diffcourse_staff.release.layout import Layout

    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")
    tmp = Path(tempfile.mkdtemp(prefix="grading-cost-"))
    dist = Path(args.dist) if args.dist else build(sets, tmp)
    for aid in sets:
        paths = Layout.beside(dist).set_by_id(aid)
        zip_path, notebook = paths.autograder_zip, paths.solutions_dir / paths.notebook_name
        graded = grade_submission(notebook, zip_path, tmp / aid)
        staff = graded.results.get("extra_data", {}).get("diffcourse_grading", {})
        base, seen = in_process_cpu(zip_path, notebook, tmp / aid)
        otter = OTTER_CPU_S.get(aid)
        print(
            f"{aid}: runner {graded.total:g}/{graded.possible:g}, {graded.cpu_s:.1f} s CPU, "
            f"{staff.get('call_processes')} call processes, peak PSS "
            f"{graded.peak_pss_mb or 0:.0f} MB | in one process {base:.1f} s CPU "
            f"({seen['passed']}/{seen['cases']} cases) -> {graded.cpu_s / base:.2f}x"
            + (
                f" | Otter {otter:g} s -> {graded.cpu_s / otter:.2f}x "
                f"({'ok' if graded.cpu_s <= TARGET_RATIO * otter else 'OVER'} "
                f"target {TARGET_RATIO}x)"
                if otter
                else ""
            )
        )


if __name__ == "__main__":
    main()
