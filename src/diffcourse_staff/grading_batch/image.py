"""Build the grading image from autograder/container/Containerfile (`make grading-image`).

    python -m diffcourse_staff.grading_batch.image [--flavour cpu|gpu] [--engine podman|docker]

The build context is assembled in a temporary folder: the Containerfile, the
grading entry point, the runner package and the Gradescope requirements plus
Otter's own pin. The host's pip settings (`pip config list`: index, extra
indexes, find-links, constraints, CA bundle) are read here, at build time, and
passed as PIP_* build arguments; local folders and files they name are bound
read-only into the build (podman), so that nothing machine-specific is written
into the Containerfile or the image.

Base image: `--base IMAGE`, or by default, for the CPU flavour on a machine with
`debootstrap`, a Debian bookworm minbase with python3 made locally (no registry
needed; cached under .cache/grading-image/ and imported once), else
debian:bookworm-slim from a registry. The same base serves the GPU flavour: torch's
CUDA wheels from PyPI carry the CUDA libraries, and the engine's NVIDIA toolkit
mounts the driver at run time, so no CUDA runtime image (and no registry) is needed.

Old images: a rebuild moves the flavour's tag to the new image and leaves the
old one untagged. After a successful build the image the tag named before is
removed, and so is every other untagged image carrying the grading image's
label (IMAGE_LABEL, set in the Containerfile): a term of rebuilds leaves one
image per flavour, the base and the layer cache of the current build.
An old image that staff tagged under another name, or that a container still
uses, is kept (the engine refuses to remove it; the build says so).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from diffcourse_staff.course import REPO_ROOT
from diffcourse_staff.grading_batch.podman import CACHE, podman_env
from diffcourse_staff.release.config import GRADESCOPE_REQUIREMENTS, TORCH_VERSION

CONTAINER_DIR = REPO_ROOT / "autograder" / "container"
RUNNER_DIR = REPO_ROOT / "autograder" / "diffcourse_grading"
IMAGE_CACHE = CACHE / "grading-image"
DEFAULT_TAG = "localhost/diffcourse-grading"
IMAGE_LABEL = "diffcourse.grading.image"  # set by the Containerfile on every layer it builds
LOCAL_BASE = "localhost/diffcourse-grading-base:bookworm"
REGISTRY_BASE = "docker.io/library/debian:bookworm-slim"
DEBOOTSTRAP_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates"
# `pip config list` keys -> the environment variable pip reads for each
PIP_KEYS = {
    "index-url": "PIP_INDEX_URL",
    "extra-index-url": "PIP_EXTRA_INDEX_URL",
    "find-links": "PIP_FIND_LINKS",
    "constraint": "PIP_CONSTRAINT",
    "cert": "PIP_CERT",
}


class ImageBuildError(RuntimeError):
    pass


def image_tag(flavour: str, tag: str = DEFAULT_TAG) -> str:
    return f"{tag}:{flavour}"


def detect_engine(preferred: str | None = None) -> str:
    """podman where installed (works without a daemon), else docker; --engine forces one."""
    for name in [preferred] if preferred else ["podman", "docker"]:
        if shutil.which(name):
            return name
    raise ImageBuildError(
        f"no container engine found ({preferred or 'podman or docker'}); "
        "install podman (apt-get install podman runc) or docker"
    )


def engine_env(engine: str) -> dict[str, str] | None:
    return podman_env() if engine == "podman" else None


def host_pip_settings(python: str = sys.executable) -> dict[str, str]:
    """The host's pip settings as PIP_* variables (from `pip config list`)."""
    out = subprocess.run(
        [python, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    settings: dict[str, str] = {}
    for line in out.splitlines():
        m = re.match(r"^([^.=]*)\.([a-z-]+)='(.*)'$", line.strip())
        if m and m.group(2) in PIP_KEYS and m.group(1) in {"global", "install", ":env:"}:
            settings[PIP_KEYS[m.group(2)]] = m.group(3)
    if "PIP_CERT" in settings:
        settings["SSL_CERT_FILE"] = settings["PIP_CERT"]
    return settings


def local_paths(settings: dict[str, str]) -> list[Path]:
    """Files and folders of this machine that the pip settings name (to bind into the build)."""
    paths = []
    for value in settings.values():
        for item in value.split():
            path = Path(item.removeprefix("file://"))
            if (item.startswith("file://") or item.startswith("/")) and path.exists():
                # a PEP 503 index folder links to its files with ../../: bind its parent
                paths.append(path.parent if path.name == "simple" else path)
    return sorted(set(paths))


def apt_mirror() -> str:
    """The Debian mirror of this machine's apt sources (deb822 or one-line format)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        for line in text.splitlines():
            m = re.match(r"^\s*(?:URIs:|deb)\s+(?:\[[^]]*\]\s+)?(\S+)", line)
            if m and "security" not in m.group(1):
                return m.group(1)
    return "http://deb.debian.org/debian"


def run(cmd: list[str], env=None, **kw) -> subprocess.CompletedProcess:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, env=env, check=True, **kw)


def image_exists(engine: str, name: str) -> bool:
    probe = [engine, "image", "inspect", name]
    done = subprocess.run(probe, env=engine_env(engine), capture_output=True, check=False)
    return done.returncode == 0


def image_id(engine: str, name: str, env=None) -> str | None:
    """The full id of the image `name` (a tag or an id), or None where there is none."""
    probe = [engine, "image", "inspect", "--format", "{{.Id}}", name]
    done = subprocess.run(probe, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def image_tags(engine: str, ident: str, env=None) -> list[str]:
    """The names an image (by id) is still tagged with."""
    probe = [engine, "image", "inspect", "--format", "{{json .RepoTags}}", ident]
    done = subprocess.run(probe, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return []
    return [t for t in json.loads(done.stdout.strip() or "null") or [] if "<none>" not in t]


def remove_replaced(engine: str, previous: str | None, current: str, env=None) -> list[str]:
    """After a build: remove the image the tag named before and our untagged images.

    Returns what the engine reports it removed. Never forced: an image that is still
    tagged elsewhere or used by a container stays, with a warning.
    """
    removed: list[str] = []
    if previous and previous != current:
        tags = image_tags(engine, previous, env)
        done = None
        if not tags:  # an image still tagged is someone's on purpose: only untagged goes
            rmi = [engine, "rmi", previous]
            done = subprocess.run(rmi, env=env, capture_output=True, text=True, check=False)
        if done is not None and done.returncode == 0:
            removed.append(previous)
        else:
            why = f"still tagged {', '.join(tags)}" if tags else done.stderr.strip()[-300:]
            print(f"warning: kept the previous image {previous[:19]}: {why}", file=sys.stderr)
    prune = [engine, "image", "prune", "--force", "--filter", f"label={IMAGE_LABEL}"]
    done = subprocess.run(prune, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"warning: `{' '.join(prune)}` failed: {done.stderr.strip()}", file=sys.stderr)
    removed += [line.strip() for line in done.stdout.splitlines() if line.strip()]
    return removed


def ensure_local_base(engine: str) -> str:
    """A Debian bookworm minbase image with python3, made with debootstrap and imported once."""
    if image_exists(engine, LOCAL_BASE):
        return LOCAL_BASE
    IMAGE_CACHE.mkdir(parents=True, exist_ok=True)
    rootfs, tarball = IMAGE_CACHE / "rootfs", IMAGE_CACHE / "base-bookworm.tar"
    if not tarball.exists():
        if not (rootfs / "usr" / "bin" / "python3").exists():
            shutil.rmtree(rootfs, ignore_errors=True)
            run(
                ["debootstrap", "--variant=minbase", f"--include={DEBOOTSTRAP_PACKAGES}"]
                + ["bookworm", str(rootfs), apt_mirror()],
                stdout=subprocess.DEVNULL,
            )
        partial = tarball.with_suffix(".partial")
        run(["tar", "-C", str(rootfs), "-cf", str(partial), "."])
        partial.replace(tarball)
    run([engine, "import", str(tarball), LOCAL_BASE], env=engine_env(engine))
    return LOCAL_BASE


def build_context(dest: Path) -> None:
    """Containerfile, entry point, runner and requirements in one folder."""
    shutil.copy2(CONTAINER_DIR / "Containerfile", dest / "Containerfile")
    for script in ("grade_one.py", "grade_shard.py"):
        shutil.copy2(CONTAINER_DIR / script, dest / script)
    shutil.copytree(
        RUNNER_DIR, dest / "diffcourse_grading", ignore=shutil.ignore_patterns("__pycache__")
    )
    otter = importlib.metadata.version("otter-grader")
    requirements = GRADESCOPE_REQUIREMENTS.read_text(encoding="utf-8")
    requirements += "# added by the image build: Otter as it pins itself in every zip\n"
    requirements += f"otter-grader[grading,plugins]=={otter}\n"
    (dest / "requirements.txt").write_text(requirements, encoding="utf-8")


def build_image(
    flavour: str = "cpu", engine: str | None = None, base: str | None = None, tag: str = DEFAULT_TAG
) -> str:
    """Build the grading image; returns its name. Raises ImageBuildError with the cause."""
    if flavour not in {"cpu", "gpu"}:
        raise ImageBuildError(f"--flavour must be cpu or gpu, not {flavour!r}")
    engine = detect_engine(engine)
    if base is None:  # both flavours: PyPI's CUDA torch wheels carry the CUDA libraries
        if shutil.which("debootstrap") and engine == "podman":
            base = ensure_local_base(engine)
        else:
            base = REGISTRY_BASE
    settings = host_pip_settings()
    name = image_tag(flavour, tag)
    previous = image_id(engine, name, engine_env(engine))
    cmd = [engine, "build", "--network", "host", "-f", "Containerfile", "-t", name]
    cmd += ["--build-arg", f"BASE={base}", "--build-arg", f"FLAVOUR={flavour}"]
    cmd += ["--build-arg", f"TORCH_VERSION={TORCH_VERSION}"]
    for key, value in settings.items():
        cmd += ["--build-arg", f"{key}={value}"]
    if engine == "podman":
        for path in local_paths(settings):
            cmd += ["-v", f"{path}:{path}:ro"]
    elif local_paths(settings):
        print(
            "warning: docker build cannot bind the local pip folders "
            f"{[str(p) for p in local_paths(settings)]}; the build uses the network indexes only",
            file=sys.stderr,
        )
    with tempfile.TemporaryDirectory(prefix="grading-image-") as ctx:
        build_context(Path(ctx))
        start = time.monotonic()
        try:
            run([*cmd, "."], env=engine_env(engine), cwd=ctx)
        except subprocess.CalledProcessError as e:
            raise ImageBuildError(f"{engine} build of {name} failed (exit {e.returncode})") from e
    print(f"built {name} on {base} in {time.monotonic() - start:.0f} s")
    current = image_id(engine, name, engine_env(engine))
    if current is None:
        raise ImageBuildError(f"{engine} build reported success but there is no image {name}")
    removed = remove_replaced(engine, previous, current, engine_env(engine))
    if removed:
        print(f"removed {len(removed)} old image(s) of the grading image")
    return name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m diffcourse_staff.grading_batch.image")
    parser.add_argument("--flavour", default="cpu", choices=["cpu", "gpu"])
    parser.add_argument("--engine", choices=["podman", "docker"])
    parser.add_argument("--base", help="base image (default: see the module docstring)")
    parser.add_argument("--tag", default=DEFAULT_TAG, help="image name; the flavour is the tag")
    args = parser.parse_args(argv)
    try:
        build_image(args.flavour, args.engine, args.base, args.tag)
    except ImageBuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
