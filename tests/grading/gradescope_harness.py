"""Grade a submission the way Gradescope does, on this machine, inside a throwaway box.

Gradescope unpacks the autograder zip into /autograder/source, puts the submission
in /autograder/submission/ and submission_metadata.json in /autograder/, runs
/autograder/run_autograder as root and reads /autograder/results/results.json.
`grade_gradescope` rebuilds that layout in private mount and PID namespaces
(`unshare --mount --pid --fork --mount-proc`, as root): a new root made of bind
mounts of this machine's folders, with its own /autograder, /tmp and /root on a
small loop-mounted disk, and a stand-in for Otter's Miniforge environment
(/root/miniforge3/bin/mamba whose `activate` puts the staff venv's bin first on
PATH). When the run ends, results.json is read at once and again `settle_s`
later, since a process the submission left behind can still rewrite it; then the
namespace ends and every such process dies with it, as when Gradescope discards
a container.

`grade_local` runs `python -m diffcourse_staff.release grade ZIP SUBMISSION` in the
same kind of box, so hostile submissions cannot harm this shared machine either.

The box's limits stand in for Gradescope's container: memory (768 MB by default,
Gradescope's default) and process count through cgroup v1, disk through the loop
device's size, and an outer wall-clock limit (Gradescope's 10 minutes by
default): a run that reaches it gets no results, as on Gradescope. Where any of
this is not permitted (`unshare`, loop devices or cgroups), `box_unavailable()`
says why and the callers skip.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
GRADESCOPE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LOG_KEEP_BYTES = 100_000  # kept of a run's output at each end (a flood must not fill this disk)


@dataclass(frozen=True)
class Limits:
    """The container's limits: Gradescope's defaults unless said otherwise."""

    wall_s: float = 600.0  # Gradescope's default timeout (10 min)
    memory_mb: int = 768  # Gradescope's default memory
    pids: int = 512  # processes and threads of the whole box
    disk_mb: int = 2048  # /autograder, /tmp and /root together
    settle_s: float = 4.0  # how long after the run results.json is read again


@dataclass
class BoxRun:
    """What one graded run left behind."""

    results: dict | None  # results.json when the run ended (None: none, unreadable, or timed out)
    results_late: dict | None  # the same file `settle_s` later
    problem: str  # why results is None ("" when it is not)
    wall_s: float
    timed_out: bool
    returncode: int | None
    log: str  # the tail of the run's stdout and stderr
    extra: dict = field(default_factory=dict)


def _venv_bin() -> Path:
    """The staff venv's bin folder (that of the interpreter running this)."""
    return Path(sys.executable).parent


def _probe(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    return "" if p.returncode == 0 else (p.stderr.strip() or f"exit status {p.returncode}")


@cache
def box_unavailable() -> str:
    """Why the box cannot be built on this machine, or "" when it can."""
    if sys.platform != "linux":
        return "the Gradescope harness needs Linux namespaces"
    if os.geteuid() != 0:
        return "the Gradescope harness runs as root (Gradescope runs run_autograder as root)"
    for tool in ("unshare", "chroot", "unzip", "mkfs.ext4", "timeout"):
        if shutil.which(tool) is None:
            return f"the Gradescope harness needs `{tool}`"
    for ctl in ("memory", "pids"):
        if not os.access(CGROUP / ctl, os.W_OK):
            return f"cgroup v1 controller {ctl} is not writable at {CGROUP / ctl}"
    with tempfile.TemporaryDirectory() as tmp:
        img, mnt = Path(tmp) / "probe.img", Path(tmp) / "mnt"
        mnt.mkdir()
        why = _probe(["truncate", "-s", "16M", str(img)]) or _probe(
            ["mkfs.ext4", "-q", "-F", str(img)]
        )
        if why:
            return f"cannot make a disk image: {why}"
        script = f"mount -o loop {shlex.quote(str(img))} {shlex.quote(str(mnt))} && umount {mnt}"
        why = _probe(["unshare", "--mount", "--pid", "--fork", "--mount-proc", "sh", "-c", script])
        if why:
            return f"unshare --mount --pid with a loop mount is not permitted here: {why}"
    return ""


class _Cgroups:
    """A memory and a pids cgroup (v1) that the box's first process joins."""

    def __init__(self, limits: Limits):
        self.name = f"diffcourse-harness-{uuid.uuid4().hex[:12]}"
        self.memory = CGROUP / "memory" / self.name
        self.pids = CGROUP / "pids" / self.name
        self.memory.mkdir()
        self.pids.mkdir()
        (self.memory / "memory.limit_in_bytes").write_text(str(limits.memory_mb * 2**20))
        (self.pids / "pids.max").write_text(str(limits.pids))

    def join(self) -> None:  # runs in the child between fork and exec
        pid = str(os.getpid())
        (self.memory / "cgroup.procs").write_text(pid)
        (self.pids / "cgroup.procs").write_text(pid)

    def peak_memory_mb(self) -> float:
        return int((self.memory / "memory.max_usage_in_bytes").read_text()) / 2**20

    def oom_kills(self) -> int:
        for line in (self.memory / "memory.oom_control").read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def remove(self) -> None:
        for group in (self.pids, self.memory):
            for _ in range(50):
                tasks = (group / "cgroup.procs").read_text().split()
                for pid in tasks:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    group.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


# Runs as PID 1 of the new namespaces. $1: the scratch folder (outside the new root).
BOX_SCRIPT = r"""
set -euo pipefail
S=$1
R=$S/root
mount --make-rprivate /
mount -o loop "$S/disk.img" "$S/disk"
mkdir -p "$S/disk/autograder" "$S/disk/tmp" "$S/disk/root/miniforge3/bin" "$R"
chmod 1777 "$S/disk/tmp"
chmod 700 "$S/disk/root"  # as in Gradescope's image (and this machine): root's home is private
mount -t tmpfs -o size=8m tmpfs "$R"
for entry in /*; do
  name=${entry#/}
  case $name in proc|tmp|root|autograder|lost+found) continue ;; esac
  if [ -L "$entry" ]; then cp -P "$entry" "$R/$name"
  elif [ -d "$entry" ]; then
    mkdir "$R/$name"; mount --rbind "$entry" "$R/$name"
    # this machine's own folders are read-only in the box (devices stay writable)
    [ "$name" = dev ] || mount -o remount,bind,ro "$R/$name"
  fi
done
mkdir "$R/proc" "$R/tmp" "$R/root" "$R/autograder"
mount -t proc proc "$R/proc"
mount --bind "$S/disk/tmp" "$R/tmp"
mount --bind "$S/disk/autograder" "$R/autograder"
mount --bind "$S/disk/root" "$R/root"
if [ "${PYTHON_HOME#/root}" != "$PYTHON_HOME" ]; then  # the staff venv's interpreter in root's home
  mkdir -p "$R$PYTHON_HOME"; mount --rbind "$PYTHON_HOME" "$R$PYTHON_HOME"
  mount -o remount,bind,ro "$R$PYTHON_HOME"
fi
cp "$S/mamba" "$R/root/miniforge3/bin/mamba"
chmod +x "$R/root/miniforge3/bin/mamba"
. "$S/prepare.sh"
set +e
# The run ends when run_autograder exits, not when the last process holding its output
# does: the output goes through a FIFO to a filter that keeps its head and tail.
mkfifo "$S/out/output"
"$HARNESS_PYTHON" -c "$LOG_FILTER" "$S/out/log.txt" < "$S/out/output" &
filter=$!
start=$(date +%s.%N)
timeout -k 2 "$WALL" chroot "$R" /usr/bin/env -i $BOX_ENV bash -c "$BOX_COMMAND" \
  > "$S/out/output" 2>&1
echo $? > "$S/out/rc"
end=$(date +%s.%N)
echo "$start $end" > "$S/out/times"
[ -f "$R$RESULTS" ] && cp "$R$RESULTS" "$S/out/results.json"
sleep "$SETTLE"
[ -f "$R$RESULTS" ] && cp "$R$RESULTS" "$S/out/results_late.json"
kill -TERM $filter; wait $filter
exit 0
"""

# Keeps the first and the last LOG_KEEP_BYTES of the run's output; writes them on EOF or
# SIGTERM (a process left behind may hold the output open until the box ends).
LOG_FILTER = """
import os, signal, sys
keep = int(os.environ["LOG_KEEP_BYTES"])
out, head, tail, dropped = open(sys.argv[1], "wb"), 0, bytearray(), 0
def finish(*args):
    if dropped:
        out.write(b"\\n[harness: %d bytes of output dropped]\\n" % dropped)
    out.write(tail)
    out.close()
    os._exit(0)
signal.signal(signal.SIGTERM, finish)
while True:
    chunk = os.read(0, 1 << 16)
    if not chunk:
        finish()
    if head < keep:
        first = chunk[: keep - head]
        out.write(first)
        out.flush()
        head += len(first)
        chunk = chunk[len(first):]
    tail += chunk
    if len(tail) > keep:
        dropped += len(tail) - keep
        del tail[: len(tail) - keep]
"""

# Otter's run_autograder does `eval "$(mamba shell hook --shell bash)"; mamba activate otter-env`.
MAMBA_STAND_IN = r"""#!/bin/bash
# Stand-in for Miniforge's mamba: the staff venv plays the environment otter-env.
case "$1" in
  shell)
    echo 'mamba() {'
    echo '  if [ "$1" = activate ]; then export PATH="VENV_BIN:$PATH" CONDA_DEFAULT_ENV="$2"'
    echo '  else command mamba "$@"; fi'
    echo '}' ;;
  run)
    shift
    while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do
      case $1 in -n|--name|-p|--prefix) shift 2 ;; *) shift ;; esac
    done
    PATH="VENV_BIN:$PATH" exec "$@" ;;
  *) echo "mamba stand-in: unsupported: $*" >&2; exit 2 ;;
esac
"""


def _read_json(path: Path) -> tuple[dict | None, str]:
    if not path.exists():
        return None, "no results.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"results.json is not valid JSON: {e}"
    if not isinstance(data, dict):
        return None, "results.json is not a JSON object"
    return data, ""


def _run_box(prepare: str, command: str, results: str, limits: Limits, env: dict) -> BoxRun:
    """Build the box, run `command` in it (bash, in the new root), read `results`."""
    why = box_unavailable()
    if why:
        raise RuntimeError(why)
    scratch = Path(tempfile.mkdtemp(prefix="gradescope-box-"))
    try:
        (scratch / "disk").mkdir()
        (scratch / "out").mkdir()
        image = str(scratch / "disk.img")
        subprocess.run(["truncate", "-s", f"{limits.disk_mb}M", image], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", image], check=True)
        (scratch / "mamba").write_text(MAMBA_STAND_IN.replace("VENV_BIN", str(_venv_bin())))
        (scratch / "prepare.sh").write_text(prepare)
        box_env = {
            "HOME": "/root",
            "PATH": GRADESCOPE_PATH,
            "LANG": "C.UTF-8",
            **{k: os.environ[k] for k in ("OMP_NUM_THREADS",) if k in os.environ},
            **env,
        }
        script_env = {
            **os.environ,
            "WALL": f"{limits.wall_s:g}",
            "SETTLE": f"{limits.settle_s:g}",
            "RESULTS": results,
            "BOX_COMMAND": command,
            "HARNESS_PYTHON": sys.executable,
            "PYTHON_HOME": os.path.realpath(sys.base_prefix),
            "LOG_FILTER": LOG_FILTER,
            "LOG_KEEP_BYTES": str(LOG_KEEP_BYTES),
            "BOX_ENV": " ".join(shlex.quote(f"{k}={v}") for k, v in box_env.items()),
        }
        groups = _Cgroups(limits)
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]
                + ["bash", "-c", BOX_SCRIPT, "box", str(scratch)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=script_env,
                preexec_fn=groups.join,
                start_new_session=True,
            )
            try:
                box_out, _ = proc.communicate(timeout=limits.wall_s + limits.settle_s + 120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                box_out, _ = proc.communicate()
            wall = time.monotonic() - start
            extra = {"peak_memory_mb": groups.peak_memory_mb(), "oom_kills": groups.oom_kills()}
        finally:
            groups.remove()
        out = scratch / "out"
        rc_text = (out / "rc").read_text().strip() if (out / "rc").exists() else ""
        if (out / "times").exists():
            t0, t1 = map(float, (out / "times").read_text().split())
            wall = t1 - t0
        rc = int(rc_text) if rc_text else None
        log = (out / "log.txt").read_text(errors="replace") if (out / "log.txt").exists() else ""
        if rc is None:
            log += "\n[harness] the box failed:\n" + box_out.decode(errors="replace")[-4000:]
        timed_out = rc in (124, 137) and wall >= limits.wall_s - 1
        results_now, problem = _read_json(out / "results.json")
        results_late, _ = _read_json(out / "results_late.json")
        if timed_out:
            problem = f"the run reached the wall-clock limit of {limits.wall_s:g} s"
            results_now = results_late = None
        return BoxRun(results_now, results_late, problem, wall, timed_out, rc, log, extra)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _copy_submission(submission: Path, unzip: bool = False) -> str:
    """Shell lines that put the submission into $SUB (a file, or a folder's contents).

    With `unzip`, an uploaded .zip is extracted there, as Gradescope does with uploads."""
    src = shlex.quote(str(submission))
    if submission.is_dir():
        return f'cp -r {src}/. "$SUB"/\n'
    if unzip and submission.suffix == ".zip":
        return f'unzip -q -o {src} -d "$SUB" || true\n'
    return f'cp {src} "$SUB"/\n'


def grade_gradescope(
    zip_path: Path,
    submission: Path,
    limits: Limits = Limits(),
    metadata: dict | None = None,
) -> BoxRun:
    """Grade `submission` (a file or a folder of files) with a built autograder zip, as
    Gradescope does: its own run_autograder, as root, in the /autograder layout."""
    metadata = metadata or {
        "id": 1,
        "created_at": "2027-02-01T12:00:00.000000-08:00",
        "assignment": {"id": 1, "title": "harness", "total_points": "100.0"},
        "submission_method": "upload",
        "users": [{"email": "student@example.edu", "id": 1, "name": "Harness Student"}],
        "previous_submissions": [],
    }
    meta = shlex.quote(json.dumps(metadata))
    prepare = (
        'A="$R/autograder"; SUB="$A/submission"\n'
        'mkdir -p "$A/source" "$SUB" "$A/results"\n'
        f'unzip -q {shlex.quote(str(zip_path))} -d "$A/source"\n'
        'cp "$A/source/run_autograder" "$A/run_autograder"; chmod +x "$A/run_autograder"\n'
        f'printf %s {meta} > "$A/submission_metadata.json"\n'
        + _copy_submission(submission, unzip=True)
    )
    return _run_box(
        prepare,
        "cd /autograder && /autograder/run_autograder",
        "/autograder/results/results.json",
        limits,
        {},
    )


def grade_local(
    zip_path: Path,
    submission: Path,
    limits: Limits = Limits(memory_mb=3072),
    guard_seconds: float | None = None,
) -> BoxRun:
    """Grade with `python -m diffcourse_staff.release grade ZIP SUBMISSION` (staff's local path).

    The box is only a safety net for this shared machine: its memory limit is well above
    what grading needs, so the limits under test are the grader's own.
    """
    prepare = (
        'SUB="$S/disk/tmp/in"; mkdir -p "$SUB" "$S/disk/tmp/zip"\n'
        f'cp {shlex.quote(str(zip_path))} "$S/disk/tmp/zip/autograder.zip"\n'
        + _copy_submission(submission)
    )
    name = submission.name if submission.is_file() else ""
    guard = f" --guard-seconds {guard_seconds:g}" if guard_seconds else ""
    command = (
        "cd /tmp && "
        f"{shlex.quote(str(_venv_bin() / 'python'))} -m diffcourse_staff.release grade "
        f"/tmp/zip/autograder.zip /tmp/in/{shlex.quote(name)} --out /tmp/grading-output{guard}"
    )
    # the staff command runs from the caller's checkout (PYTHONPATH may point at another)
    env = {k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}
    return _run_box(prepare, command, "/tmp/grading-output/results.json", limits, env)
