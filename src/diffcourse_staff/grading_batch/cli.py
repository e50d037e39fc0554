"""Command line: grade a class, merge shards, write Kubernetes manifests.

python -m diffcourse_staff.grading_batch grade --assignment ps3 --submissions export.zip
python -m diffcourse_staff.grading_batch merge --assignment ps3 OUT1 OUT2 ... --into OUT
python -m diffcourse_staff.grading_batch k8s --assignment ps3 --shards 8 --out autograder/k8s/ps3
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

from diffcourse_staff.course import REPO_ROOT
from diffcourse_staff.grading_batch import engines, scale_checks
from diffcourse_staff.grading_batch.batch import BatchConfig, grade_all
from diffcourse_staff.grading_batch.image import DEFAULT_TAG, image_exists, image_tag
from diffcourse_staff.grading_batch.journal import JournalError
from diffcourse_staff.grading_batch.outputs import OutputsError, write_report
from diffcourse_staff.grading_batch.submissions import SubmissionsError
from diffcourse_staff.release.layout import Layout

DEFAULT_OUT = REPO_ROOT / "runs" / "grade-all"  # git-ignored: student data stays out of git


def detect_gpus() -> list[str]:
    """GPU indices from nvidia-smi, or none."""
    if not shutil.which("nvidia-smi"):
        return []
    done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False)
    return [str(i) for i, line in enumerate(done.stdout.splitlines()) if line.startswith("GPU ")]


def choose_engine(name: str, image: str | None, flavour: str, limits: engines.Limits):
    """The engine asked for, or (auto) podman, then docker, then the local sandbox."""
    candidates = ["podman", "docker"] if name == "auto" else [name]
    for engine in candidates:
        if engine == "local":
            break
        if shutil.which(engine):
            tag = image or image_tag(flavour, DEFAULT_TAG)
            if not image_exists(engine, tag):
                if name != "auto":
                    sys.exit(f"error: no image {tag} in {engine}: run `make grading-image` first")
                continue
            return engines.ContainerEngine(engine, tag, limits)
    warnings.warn(
        "grading in the LOCAL SANDBOX (bubblewrap + a memory limit), not in containers: "
        "weaker isolation (shared kernel, host's Python environment); build the image with "
        "`make grading-image` to grade in containers",
        stacklevel=1,
    )
    return engines.LocalSandbox(limits)


def _grade(args) -> int:
    zip_path = _autograder_zip(args)
    gpus = detect_gpus() if args.gpus == "auto" else [g for g in (args.gpus or "").split(",") if g]
    workers = args.workers or (len(gpus) * args.workers_per_gpu if gpus else 2)
    limits = engines.Limits(
        memory_mb=args.memory_mb, pids=args.pids, cpus=args.cpus, timeout_s=args.timeout
    )
    flavour = "gpu" if gpus else "cpu"
    engine = choose_engine(args.engine, args.image, flavour, limits)
    out = Path(args.out or DEFAULT_OUT / args.assignment)
    cfg = BatchConfig(
        autograder_zip=zip_path,
        submissions=Path(args.submissions),
        out=out,
        workers=workers,
        profile=args.profile or ("scale" if gpus else "cpu"),
        gpus=gpus,
        limits=limits,
        restart=args.restart,
        progress=not args.no_progress,
        scale_checks=scale_checks.staff_folder(args.assignment),
    )
    try:
        grade_all(engine, cfg)
        counts = write_report(
            [out], out, f"{args.assignment}: autograder scores", args.gradescope_csv
        )
    except (SubmissionsError, JournalError, OutputsError, scale_checks.ScaleCheckError) as e:
        sys.exit(f"error: {e}")
    print(f"scores: {out / 'scores.csv'}  report: {out / 'report.md'}  outcomes: {counts}")
    return 0


def _merge(args) -> int:
    folders = [Path(f) for f in args.folders]
    title = f"{args.assignment}: autograder scores"
    try:
        counts = write_report(folders, Path(args.into), title, args.gradescope_csv)
    except OutputsError as e:
        sys.exit(f"error: {e}")
    print(f"merged {len(folders)} folder(s) into {args.into}: {counts}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m diffcourse_staff.grading_batch", description=__doc__
    )
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade every submission of an assignment")
    g.add_argument("--assignment", required=True, help="assignment id (course.yml)")
    g.add_argument("--submissions", required=True, help="Gradescope export zip or a folder")
    g.add_argument("--autograder", help="autograder zip (default dist/<id>/<id>-autograder.zip)")
    g.add_argument("--out", help="output folder (default runs/grade-all/<id>)")
    g.add_argument("--engine", default="auto", choices=["auto", "podman", "docker", "local"])
    g.add_argument("--image", help="grading image (default localhost/diffcourse-grading:<flavour>)")
    g.add_argument("--workers", type=int, help="parallel gradings (default 2, or GPUs x per-GPU)")
    g.add_argument("--gpus", help="'auto' or GPU indices '0,1'; each worker gets one")
    g.add_argument("--workers-per-gpu", type=int, default=1, help="workers sharing one GPU")
    g.add_argument("--profile", help="grading profile: cpu (default) or scale (default on GPUs)")
    g.add_argument("--memory-mb", type=int, default=4096, help="memory limit per submission")
    g.add_argument("--pids", type=int, default=512, help="process limit per submission")
    g.add_argument("--cpus", type=float, default=1.0, help="CPU limit per submission")
    g.add_argument("--timeout", type=float, default=900, help="wall-clock limit per submission (s)")
    g.add_argument("--restart", action="store_true", help="forget earlier grades in --out")
    g.add_argument("--gradescope-csv", type=Path, help="Gradescope's Download Grades CSV")
    g.add_argument("--no-progress", action="store_true")

    m = sub.add_parser("merge", help="scores.csv and report from one or more output folders")
    m.add_argument("folders", nargs="+")
    m.add_argument("--assignment", required=True)
    m.add_argument("--into", required=True)
    m.add_argument("--gradescope-csv", type=Path)

    k = sub.add_parser("k8s-prepare", help="lay out a shared volume and write the Indexed Job")
    k.add_argument("--assignment", required=True)
    k.add_argument("--submissions", required=True, type=Path)
    k.add_argument("--autograder", type=Path)
    k.add_argument("--data", required=True, type=Path, help="the shared volume, mounted here")
    k.add_argument("--claim", required=True, help="PersistentVolumeClaim of that volume")
    k.add_argument("--subpath", default="", help="folder of --data inside the volume")
    k.add_argument("--image", required=True, help="grading image in your cluster's registry")
    k.add_argument("--shards", type=int, required=True, help="pods (Job completions)")
    k.add_argument("--parallelism", type=int, help="pods at once (default: all)")
    k.add_argument("--gpus-per-pod", type=int, default=0)
    k.add_argument("--profile", default=None, help="cpu, or scale (default with GPUs)")
    k.add_argument("--memory-mb", type=int, default=4096)
    k.add_argument("--cpus", type=float, default=1.0)
    k.add_argument("--timeout", type=float, default=900)

    km = sub.add_parser("k8s-merge", help="results, scores.csv and report from the shards")
    km.add_argument("--assignment", required=True)
    km.add_argument("--data", required=True, type=Path)
    km.add_argument("--memory-mb", type=int, default=4096)
    km.add_argument("--timeout", type=float, default=900)
    km.add_argument("--gradescope-csv", type=Path)

    args = parser.parse_args(argv)
    commands = {"grade": _grade, "merge": _merge, "k8s-prepare": _k8s_prepare}
    return (commands | {"k8s-merge": _k8s_merge})[args.command](args)


def _autograder_zip(args) -> Path:
    default = Layout().set_by_id(args.assignment).autograder_zip
    path = Path(args.autograder or default)
    if not path.is_file():
        sys.exit(f"error: {path}: no autograder zip (run `make assignment A={args.assignment}`)")
    return path


def _k8s_prepare(args) -> int:
    from diffcourse_staff.grading_batch import k8s

    limits = engines.Limits(memory_mb=args.memory_mb, cpus=args.cpus, timeout_s=args.timeout)
    try:
        path = k8s.prepare(
            args.assignment, _autograder_zip(args), args.submissions, args.data, args.shards,
            image=args.image, claim=args.claim, subpath=args.subpath,
            parallelism=args.parallelism, limits=limits, gpus_per_pod=args.gpus_per_pod,
            profile=args.profile or ("scale" if args.gpus_per_pod else "cpu"),
        )  # fmt: skip
    except (SubmissionsError, k8s.ManifestError, scale_checks.ScaleCheckError) as e:
        sys.exit(f"error: {e}")
    print(f"wrote {path}: kubectl apply -f {path}; when the Job completes, run k8s-merge")
    return 0


def _k8s_merge(args) -> int:
    from diffcourse_staff.grading_batch import k8s

    limits = engines.Limits(memory_mb=args.memory_mb, timeout_s=args.timeout)
    counts = k8s.merge(args.data, limits)
    title = f"{args.assignment}: autograder scores"
    write_report([args.data], args.data, title, args.gradescope_csv)
    print(f"scores: {args.data / 'scores.csv'}  report: {args.data / 'report.md'}  {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
