"""The rebuild engine of the site's figures, and its command line.

`python -m diffcourse_staff.site.figures` (`make figures`) writes every figure of the
gallery (`diffcourse_staff.site.gallery`) into build/figures (git-ignored),
deterministically (fixed seeds, no timestamps in the files). A figure is remade only
when its inputs change: the gallery code it runs (its function and the helpers it
calls, found by `code_deps`), the library modules that code imports (with their own
imports), the pretrained checkpoint when it uses the model, and the torch and
matplotlib versions. Editing one helper remakes only the figures that call it. The
hashes (made by `diffcourse_staff.input_hash`, like the release's) live in
build/figures/.stamps.json.

    python -m diffcourse_staff.site.figures            # make what is missing or stale
    python -m diffcourse_staff.site.figures --force    # remake everything
    python -m diffcourse_staff.site.figures --list     # names and whether each is current
    python -m diffcourse_staff.site.figures l02-schedules showcase-sampling   # just these

Figures are referenced from the pages as figures/<name> (the site hooks serve
build/figures under that path).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import time
from pathlib import Path

import torch

from diffcourse_staff.code_deps import CodeDeps, code_deps
from diffcourse_staff.input_hash import Hasher
from diffcourse_staff.site import FIGURES_DIR, gallery
from diffcourse_staff.site.gallery import FIGURES, Figure

STAMPS = ".stamps.json"
LIBRARY = "diffcourse"

__all__ = ["FIGURES", "Figure", "FigureError", "input_hash", "make_figures", "stale"]


class FigureError(RuntimeError):
    """One or more figures could not be made (the message lists each and why)."""


def figure_inputs(fig: Figure, local: str = gallery.__name__, library: str = LIBRARY) -> CodeDeps:
    """The gallery code and the library modules that making `fig` runs."""
    return code_deps(fig.make, local=local, library=library)


def input_hash(fig: Figure, local: str = gallery.__name__, library: str = LIBRARY) -> str:
    """Hash of everything that decides the figure's bytes (see the module docstring)."""
    deps = figure_inputs(fig, local, library)
    h = Hasher().text("figure", fig.name)
    for code in deps.code:
        h.function(code)
    for where, value in deps.constants:
        h.text(f"constant:{where}", value)
    for name in deps.modules:
        h.module(name)
    if f"{library}.pretrained" in deps.modules:
        from diffcourse.pretrained import checkpoint_path

        h.path("checkpoint", Path(checkpoint_path()))
    h.text("torch", torch.__version__)
    h.text("matplotlib", importlib.metadata.version("matplotlib"))
    return h.hexdigest()


def _read_stamps(out: Path) -> dict:
    try:
        return json.loads((out / STAMPS).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def stale(out: Path = FIGURES_DIR, figures=FIGURES) -> list[Figure]:
    """Figures whose file is missing or whose inputs changed since they were made."""
    stamps = _read_stamps(out)
    return [
        f for f in figures if not (out / f.name).is_file() or stamps.get(f.name) != input_hash(f)
    ]


def _make_one(name: str, out: str, threads: int) -> tuple[str, float, str | None]:
    """Make one figure into out (in a worker process); return (name, seconds, error)."""
    torch.set_num_threads(threads)
    fig = next(f for f in FIGURES if f.name == name)
    start = time.perf_counter()
    tmp = Path(out) / f".tmp-{fig.name}"
    try:
        fig.make(tmp)
    except Exception as e:  # reported by the parent, with every other failure
        tmp.unlink(missing_ok=True)
        return name, time.perf_counter() - start, f"{type(e).__name__}: {e}"
    tmp.replace(Path(out) / fig.name)
    return name, time.perf_counter() - start, None


def make_figures(
    out: Path = FIGURES_DIR, names=None, force: bool = False, log=print, jobs: int = 2
) -> dict[str, float]:
    """Make the stale figures (all of `names`, or every figure); return seconds per figure.

    With jobs > 1 the figures are made by that many worker processes of one thread each
    (on 2 cores that is faster than one process with 2 threads: the models are small).
    """
    known = {f.name: f for f in FIGURES}
    if names:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown figure(s): {', '.join(unknown)} (see --list)")
        todo = [known[n] for n in names]
    else:
        todo = list(FIGURES)
    if not force:
        todo = [f for f in todo if f in stale(out, todo)]
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    failures: list[str] = []

    def done(name: str, seconds: float, error: str | None) -> None:
        if error:
            failures.append(f"{name}: {error}")
            log(f"  {name:32s} FAILED: {error}")
            return
        stamps = _read_stamps(out)
        stamps[name] = input_hash(known[name])
        (out / STAMPS).write_text(json.dumps(stamps, indent=1, sort_keys=True))
        times[name] = seconds
        log(f"  {name:32s} {seconds:6.1f} s")

    if jobs > 1 and len(todo) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = [pool.submit(_make_one, f.name, str(out), 1) for f in todo]
            for future in as_completed(futures):
                done(*future.result())
    else:
        threads = min(2, torch.get_num_threads())
        for fig in todo:
            done(*_make_one(fig.name, str(out), threads))
    if failures:
        raise FigureError(f"{len(failures)} figure(s) failed:\n" + "\n".join(failures))
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m diffcourse_staff.site.figures",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", help="figure names (default: all)")
    parser.add_argument("--force", action="store_true", help="remake even if current")
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    parser.add_argument("--out", type=Path, default=FIGURES_DIR, help="output folder")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(argv)
    if args.list:
        old = {f.name for f in stale(args.out)}
        for f in FIGURES:
            print(f"{f.name:32s} {'stale' if f.name in old else 'current'}")
        return 0
    start = time.perf_counter()
    try:
        times = make_figures(args.out, args.names, args.force, jobs=args.jobs)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except FigureError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    total = time.perf_counter() - start
    print(
        f"figures: {len(times)} made, {len(FIGURES) - len(times)} current, {total:.1f} s"
        f" -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
