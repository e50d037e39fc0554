"""Where one submission is graded: a fresh container (podman, docker) or the local sandbox.

Every engine runs autograder/container/grade_one.py on the same mounts:
/grading/source (the unpacked autograder zip, read-only), /grading/submission
(read-only), /grading/autograder.zip (read-only, for the Otter fallback) and
/grading/out (the only writable place besides a private /tmp). When the zip
carries the isolated runner, the entry point starts as root with every
capability dropped but those the runner needs to move the student's code to an
unprivileged uid, to clean up and to kill what it leaves behind (RUNNER_CAPS);
for an older zip (Otter runs student code in its own kernel) it starts as
nobody outright.

Containers: no network, read-only root, a private tmpfs, memory (no swap),
pids and CPU limits, no new privileges; GPUs through the engine's standard
flags (docker `--gpus device=N`, podman CDI `--device nvidia.com/gpu=N`).

The local sandbox (no engine installed): bubblewrap with new mount, PID, IPC,
UTS and network namespaces, only the system folders and the Python
environment mounted read-only, and a memory limit from a cgroup-v1 memory group
(or RLIMIT_AS where no cgroup is writable). It shares the host's kernel and
user ids more closely than a container does: the CLI warns when it is used.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from diffcourse_staff.course import REPO_ROOT
from diffcourse_staff.grading_batch.podman import podman_env

GRADE_ONE = REPO_ROOT / "autograder" / "container" / "grade_one.py"
NOBODY = 65534
# What the runner (root, trusted) needs to move student code to nobody, hand it a scratch
# folder and clean up after it (files nobody created in nobody's folders), and kill it.
RUNNER_CAPS = ("SETUID", "SETGID", "CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL")
ENGINE_FAILURE_CODES = {125, 126, 127}  # docker/podman: the engine itself, or the command, failed


@dataclass
class Limits:
    memory_mb: int = 4096
    pids: int = 512
    cpus: float = 1.0
    timeout_s: float = 900.0
    tmpfs_mb: int = 1024


@dataclass
class Job:
    key: str
    source: Path  # unpacked autograder zip
    zip: Path
    submission: Path  # file or folder
    out: Path  # scratch output folder, written by the grader
    profile: str = "cpu"
    gpu: str | None = None  # GPU index (or MIG/CDI name) for this worker


@dataclass
class RunResult:
    exit_code: int | None
    timed_out: bool
    wall_s: float
    peak_memory_mb: float | None = None
    oom_kills: int | None = None
    engine_log: str = ""


def has_runner(source: Path) -> bool:
    return (Path(source) / "diffcourse_grading" / "run.py").is_file()


def _submission_target(sub: Path) -> str:
    return f"/grading/submission/{sub.name}" if sub.is_file() else "/grading/submission"


def _grading_env(job: Job) -> dict[str, str]:
    env = {
        "DIFFCOURSE_GRADING_PROFILE": job.profile,
        "GRADING_PROFILE": job.profile,
        "DIFFCOURSE_GRADING_DEVICE": "cuda" if job.gpu is not None else "cpu",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "HOME": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if job.gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = "0"  # the one device the engine exposes
    return env


def _entry_args(job: Job) -> list[str]:
    args = ["--source", "/grading/source", "--submission", _submission_target(job.submission)]
    return args + [
        "--out",
        "/grading/out",
        "--zip",
        "/grading/autograder.zip",
        "--profile",
        job.profile,
    ]


def _prepare_out(job: Job, runner: bool) -> None:
    if job.out.exists():
        shutil.rmtree(job.out)
    job.out.mkdir(parents=True)
    # the runner (root inside) writes here; without it Otter runs as nobody and must write
    job.out.chmod(0o755 if runner else 0o777)


class ContainerEngine:
    """One fresh container per submission, removed when it ends."""

    def __init__(self, engine: str, image: str, limits: Limits):
        self.engine, self.image, self.limits = engine, image, limits
        self.env = podman_env() if engine == "podman" else None

    def describe(self) -> str:
        return f"{self.engine} ({self.image})"

    def command(self, job: Job, name: str) -> list[str]:
        lim, runner = self.limits, has_runner(job.source)
        sub_mount = _submission_target(job.submission)
        cmd = [self.engine, "run", "--rm", "--name", name, "--network", "none", "--read-only"]
        cmd += ["--tmpfs", f"/tmp:rw,exec,nosuid,nodev,size={lim.tmpfs_mb}m,mode=1777"]
        cmd += ["--memory", f"{lim.memory_mb}m", "--memory-swap", f"{lim.memory_mb}m"]
        cmd += ["--pids-limit", str(lim.pids), "--cpus", f"{lim.cpus:g}"]
        cmd += ["--cap-drop", "all", "--security-opt", "no-new-privileges"]
        if runner:
            cmd += [a for cap in RUNNER_CAPS for a in ("--cap-add", cap)]
        else:
            cmd += ["--user", f"{NOBODY}:{NOBODY}"]
        cmd += ["-v", f"{job.source.resolve()}:/grading/source:ro"]
        cmd += ["-v", f"{job.zip.resolve()}:/grading/autograder.zip:ro"]
        cmd += ["-v", f"{job.submission.resolve()}:{sub_mount}:ro"]
        cmd += ["-v", f"{job.out.resolve()}:/grading/out:rw"]
        for key, value in _grading_env(job).items():
            cmd += ["-e", f"{key}={value}"]
        if job.gpu is not None:
            if self.engine == "docker":
                cmd += ["--gpus", f"device={job.gpu}"]
            else:
                cmd += ["--device", f"nvidia.com/gpu={job.gpu}"]
        return [*cmd, self.image, *_entry_args(job)]

    def run(self, job: Job) -> RunResult:
        _prepare_out(job, has_runner(job.source))
        name = f"diffcourse-grading-{uuid.uuid4().hex[:12]}"
        start = time.monotonic()
        log_path = job.out.parent / f"{job.out.name}-engine.log"
        timed_out = False
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                self.command(job, name),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=job.out.parent,  # conmon leaves an `oom` marker file in its working folder
            )
            try:
                code = proc.wait(timeout=self.limits.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                subprocess.run([self.engine, "kill", name], env=self.env, capture_output=True)
                try:
                    code = proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    code = proc.wait()
                subprocess.run([self.engine, "rm", "-f", name], env=self.env, capture_output=True)
        wall = time.monotonic() - start
        return RunResult(code, timed_out, wall, engine_log=_tail(log_path))


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class MemoryGroup:
    """A cgroup-v1 memory group under this process's own, or None where none can be made."""

    ROOT = Path("/sys/fs/cgroup/memory")

    def __init__(self, limit_mb: int):
        self.path: Path | None = None
        try:
            own = next(
                line.split(":", 2)[2]
                for line in Path("/proc/self/cgroup").read_text().splitlines()
                if line.split(":")[1] == "memory"
            )
            path = self.ROOT / own.lstrip("/") / f"diffcourse-grading-{uuid.uuid4().hex[:10]}"
            path.mkdir()
            (path / "memory.limit_in_bytes").write_text(str(limit_mb * 2**20))
            if (path / "memory.memsw.limit_in_bytes").exists():
                (path / "memory.memsw.limit_in_bytes").write_text(str(limit_mb * 2**20))
            self.path = path
        except (OSError, StopIteration, IndexError):
            self.path = None

    def join(self) -> None:
        """Called in the child before exec: move it into the group."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def read(self) -> tuple[float | None, int | None]:
        if self.path is None:
            return None, None
        peak = int((self.path / "memory.max_usage_in_bytes").read_text()) / 2**20
        ooms = None
        for line in (self.path / "memory.oom_control").read_text().splitlines():
            if line.startswith("oom_kill "):
                ooms = int(line.split()[1])
        return peak, ooms

    def remove(self) -> None:
        if self.path is None:
            return
        for _ in range(50):
            pids = (self.path / "cgroup.procs").read_text().split()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        try:
            self.path.rmdir()
        except OSError:
            pass


class LocalSandbox:
    """bubblewrap + a memory limit, for machines without a container engine."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.bwrap = shutil.which("bwrap")
        if not self.bwrap:
            raise RuntimeError("the local sandbox needs bubblewrap: apt-get install bubblewrap")

    def describe(self) -> str:
        return "local sandbox (bubblewrap)"

    def command(self, job: Job) -> list[str]:
        runner = has_runner(job.source)
        cmd = [self.bwrap, "--die-with-parent", "--new-session"]
        cmd += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        cmd += ["--unshare-cgroup-try"]
        cmd += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
        for name in ("bin", "sbin", "lib", "lib64", "lib32"):
            top = Path("/") / name
            if top.is_symlink():
                cmd += ["--symlink", os.readlink(top), str(top)]
            elif top.is_dir():
                cmd += ["--ro-bind", str(top), str(top)]
        # bwrap makes missing parent folders 0700; the unprivileged grader must traverse them
        parents = {"/grading", "/grading/submission"}
        for prefix in {sys.base_prefix, sys.prefix}:
            parents |= {str(p) for p in Path(prefix).parents if str(p) != "/"}
        for parent in sorted(parents):
            cmd += ["--perms", "0755", "--dir", parent]
        for prefix in sorted({sys.base_prefix, sys.prefix}):
            cmd += ["--ro-bind", prefix, prefix]
        cmd += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
        if job.gpu is not None:
            for dev in sorted(Path("/dev").glob("nvidia*")):
                cmd += ["--dev-bind", str(dev), str(dev)]
        cmd += ["--ro-bind", str(job.source.resolve()), "/grading/source"]
        cmd += ["--ro-bind", str(job.zip.resolve()), "/grading/autograder.zip"]
        cmd += ["--ro-bind", str(job.submission.resolve()), _submission_target(job.submission)]
        cmd += ["--bind", str(job.out.resolve()), "/grading/out"]
        cmd += ["--ro-bind", str(GRADE_ONE), "/grading/grade_one.py", "--chdir", "/tmp"]
        cmd += ["--clearenv", "--setenv", "PATH", f"{sys.prefix}/bin:/usr/bin:/bin"]
        for key, value in _grading_env(job).items():
            cmd += ["--setenv", key, value]
        if job.gpu is not None:
            cmd += ["--setenv", "CUDA_VISIBLE_DEVICES", str(job.gpu)]
        # SETUID/SETGID let the runner (or setpriv, for an older zip) drop to nobody, which
        # clears every capability of the process that runs student code
        cmd += ["--cap-drop", "ALL"]
        cmd += [a for cap in RUNNER_CAPS for a in ("--cap-add", f"CAP_{cap}")]
        if runner:
            cmd += ["--"]
        else:
            cmd += ["--", "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
            cmd += ["--no-new-privs"]
        return [*cmd, f"{sys.prefix}/bin/python", "/grading/grade_one.py", *_entry_args(job)]

    def run(self, job: Job) -> RunResult:
        _prepare_out(job, has_runner(job.source))
        group = MemoryGroup(self.limits.memory_mb)
        limit_bytes = self.limits.memory_mb * 2**20

        def enter_limits() -> None:  # runs in the child, before bwrap starts
            if group.path is not None:
                group.join()
            else:  # no writable cgroup: cap the address space instead (coarser)
                resource.setrlimit(resource.RLIMIT_AS, (limit_bytes * 2, limit_bytes * 2))

        log_path = job.out.parent / f"{job.out.name}-engine.log"
        start = time.monotonic()
        timed_out = False
        try:
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(
                    self.command(job), stdout=log, stderr=subprocess.STDOUT, preexec_fn=enter_limits
                )
                try:
                    code = proc.wait(timeout=self.limits.timeout_s)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    proc.kill()  # --die-with-parent takes the sandbox with it
                    code = proc.wait()
            wall = time.monotonic() - start
            peak, ooms = group.read()
        finally:
            group.remove()
        return RunResult(code, timed_out, wall, peak, ooms, engine_log=_tail(log_path))


def memory_group_available() -> bool:
    probe = MemoryGroup(64)
    ok = probe.path is not None
    probe.remove()
    return ok
