"""The grader's hold on the worker: start it, run cells and calls under limits, kill it.

Every limit is enforced from here, outside the worker: wall time per cell and
per call (SIGKILL), memory (the proportional set size of every process the
worker started, polled while waiting), and the end of grading (every
descendant is killed; the grader is a child subreaper, so a process that
detached itself is still found). The worker runs as an unprivileged user when
the grader is root (see worker.enter_sandbox).
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

from diffcourse_grading.protocol import ProtocolError, recv_message, send_message
from diffcourse_grading.rpc import CallTimeout, ChannelBroken, Endpoint, _tensors

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
PR_SET_CHILD_SUBREAPER = 36
WATCH_MEMORY_S = 0.25  # how often the worker's memory is read while the grader waits
WATCH_LIST_S = 1.0  # how often its list of processes is refreshed
WATCH_PSS_S = 5.0  # how often the exact (slow) figure is read while resident sizes are high
# Attributes of the tests' modules and optimizers that submitted code may not read (besides
# _private ones): they would let it change how those objects behave later.
DENIED_ATTRIBUTES = ("register", "apply", "load_state_dict", "add_module", "set_", "hook")
# Functions the grader may hand to submitted code (by reference) come from these modules.
TRUSTED_FUNCTION_MODULES = {"__grading_test__", "__grading_reference__"}


class WorkerDied(ChannelBroken):
    """The worker (or the call's child) ended unexpectedly."""


class MemoryLimit(ChannelBroken):
    """The worker's processes used more memory than allowed; they were killed."""


@dataclass
class Limits:
    cell_timeout: float = 120
    call_timeout: float = 60
    question_timeout: float = 120
    notebook_timeout: float = 240
    total_timeout: float = 420
    memory_mb: int = 1024  # all the worker's processes together (proportional set size)
    data_mb: int = 0  # RLIMIT_DATA of each worker process; 0: memory_mb
    processes: int = 256
    file_mb: int = 64
    max_restarts: int = 4
    message_mb: int = 256

    @classmethod
    def from_dict(cls, d: dict) -> Limits:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in (d or {}).items() if k in known})


@dataclass
class WorkerGlobal:
    """A worker global the grader cannot copy: passed back into calls by name."""

    name: str
    type_name: str = "object"

    def __repr__(self):
        return f"<{self.type_name} {self.name} (in the submission)>"


def may_export(obj) -> bool:
    """Whether submitted code may hold a reference to this grader object.

    Never modules, classes, code, frames or free builtins (exec, open, os.system):
    through them a submission could run code in the grader. Functions only
    when the tests or the reference defined them.
    """
    if isinstance(obj, (types.ModuleType, type, types.CodeType, types.FrameType)):
        return False
    if isinstance(obj, (types.BuiltinFunctionType, types.BuiltinMethodType)):
        # only methods of library objects (a tensor's, an optimizer's): a builtin type's
        # methods such as str.format read attributes by name, private ones included
        owner = getattr(obj, "__self__", None)
        return not (
            owner is None
            or isinstance(owner, types.ModuleType)
            or type(owner).__module__ == "builtins"
        )
    if isinstance(obj, types.FunctionType):
        return obj.__module__ in TRUSTED_FUNCTION_MODULES
    if isinstance(obj, types.MethodType):
        return not isinstance(obj.__self__, (types.ModuleType, type))
    if type(obj).__module__ == "builtins" and callable(obj):
        return False  # method-wrappers, slot wrappers and the like
    if isinstance(obj, functools.partial):
        return may_export(obj.func)
    return True


def getattr_allowed(obj, name: str) -> bool:
    """Public attributes, except those that would let submitted code change how a
    module or an optimizer of the tests behaves later (hooks, apply, loading state)."""
    if name.startswith("_"):
        return False
    import torch

    if isinstance(obj, (torch.nn.Module, torch.optim.Optimizer)):
        return not any(d in name for d in DENIED_ATTRIBUTES)
    return True


def _set_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def descendants(pid: int | None = None) -> list[int]:
    """Every live descendant of `pid` (default: this process), from /proc."""
    root = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2 :].split()
        children.setdefault(int(rest[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def pss_bytes(pid: int) -> int:
    """Proportional set size of one process (shared pages split among their users)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _running(pid: int) -> bool:
    """Whether a process exists and has not exited (a zombie has)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] not in (b"Z", b"X")


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rfind(b")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def unprivileged_user() -> tuple[int, int] | None:
    """(uid, gid) of `nobody` when this process is root, else None (no drop possible)."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam("nobody")
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return 65534, 65534


@dataclass
class CellOutcome:
    index: int
    error: str | None = None  # the cell's exception, as "Type: message"
    stopped: str | None = None  # why the grader stopped it (time, memory, the worker died)


@dataclass
class Supervisor:
    """Starts and drives one worker at a time (restarted after a crash)."""

    cells: list[str]
    support_dir: Path | None
    limits: Limits
    protect: list[Path] = field(default_factory=list)
    device: str = "cpu"
    isolate_network: bool = True
    kill_uid: bool = False
    audited: list[Path] = field(default_factory=list)  # paths whose access is reported

    def __post_init__(self):
        self.user = unprivileged_user()
        self.subreaper = _set_subreaper()
        self.proc: subprocess.Popen | None = None
        self.ctrl: socket.socket | None = None
        self.sandbox: dict = {}
        self.skip: dict[int, str] = {}  # cell -> why it is not run again
        self.cell_outcomes: dict[int, CellOutcome] = {}
        self.restarts = 0
        self.flags: list[str] = []
        self.open_calls: list[tuple[Endpoint, int]] = []
        self.scratch = Path(tempfile.mkdtemp(prefix="diffcourse-grading-"))
        self.audit_fd: int | None = None  # the worker reports touches of protected paths here
        self.peak_pss = 0  # measured only when the resident sizes pass the limit
        self.peak_rss = 0  # sum over the worker's processes (shared pages counted in each)
        self._last_poll = 0.0
        self._last_list = 0.0
        self._pss_at = self._rss_at = 0  # the last exact reading and the resident sum then
        self._pss_time = -1e9
        self._pids: list[int] = []
        self._protect()

    # -- the sandbox from outside -----------------------------------------------------------
    def _protect(self) -> None:
        """Make the tests and the reference unreadable to the worker's user (the grader is
        root when it drops to that user). The results are written after the worker and
        everything it started are dead, through a fresh file (run.write_results)."""
        if self.user is None:
            return
        for p in self.protect:
            if p.is_dir():
                os.chmod(p, 0o700)

    def _prepare_scratch(self) -> None:
        for p in self.scratch.iterdir():
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
        if self.support_dir is not None and self.support_dir.is_dir():
            shutil.copytree(self.support_dir, self.scratch, dirs_exist_ok=True)
        if self.user is not None:
            uid, gid = self.user
            for root, dirs, files in os.walk(self.scratch):
                for name in dirs + files:
                    os.lchown(os.path.join(root, name), uid, gid)
            os.chown(self.scratch, uid, gid)

    def _env(self) -> dict:
        keep = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT", "VIRTUAL_ENV", "CONDA_PREFIX")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(
            {
                "PYTHONPATH": str(PACKAGE_ROOT),
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONUNBUFFERED": "1",
                "HOME": str(self.scratch),
                "MPLBACKEND": "Agg",
                "MPLCONFIGDIR": str(self.scratch / ".matplotlib"),
                "OMP_NUM_THREADS": "1",
                "DIFFCOURSE_GRADING_DEBUG": os.environ.get("DIFFCOURSE_GRADING_DEBUG", ""),
                "MKL_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1",
                "CUDA_VISIBLE_DEVICES": ""
                if self.device == "cpu"
                else os.environ.get("CUDA_VISIBLE_DEVICES", "0"),
            }
        )
        return env

    # -- start and stop ---------------------------------------------------------------------
    def start(self) -> None:
        self.stop()
        self._prepare_scratch()
        ours, theirs = socket.socketpair()
        audit_read, audit_write = os.pipe()
        os.set_blocking(audit_read, False)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "diffcourse_grading.worker", str(theirs.fileno())],
            pass_fds=[theirs.fileno(), audit_write],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # output floods go nowhere
            stderr=None if os.environ.get("DIFFCOURSE_GRADING_DEBUG") else subprocess.DEVNULL,
            cwd=self.scratch,
            env=self._env(),
            start_new_session=True,
        )
        theirs.close()
        os.close(audit_write)
        if self.audit_fd is not None:
            os.close(self.audit_fd)
        self.audit_fd = audit_read
        self.ctrl = ours
        cfg = {
            "audit_fd": audit_write,
            "protected": [str(p.resolve()) for p in self.audited],
            "cells": self.cells,
            "scratch": str(self.scratch),
            "uid": self.user[0] if self.user else None,
            "gid": self.user[1] if self.user else None,
            "isolate_network": self.isolate_network,
            "throwaway_machine": self.kill_uid,  # Gradescope: its container is discarded
            "limits": {
                "data_mb": self.limits.data_mb or self.limits.memory_mb,
                "processes": self.limits.processes,
                "file_mb": self.limits.file_mb,
            },
        }
        send_message(self.ctrl, {"op": "init", "config": json.dumps(cfg)})
        header = self._control_reply(60.0, "start")
        if header.get("op") != "ready":
            raise WorkerDied(f"the worker did not start ({header.get('op')!r})")
        self.sandbox = header.get("sandbox") or {}

    def _control_reply(self, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        import select

        while True:
            rem = deadline - time.monotonic()
            if rem <= 0:
                raise CallTimeout(what)
            ready, _, _ = select.select([self.ctrl], [], [], min(0.1, rem))
            self.watchdog()
            if ready:
                break
            if self.proc is not None and self.proc.poll() is not None:
                # dead, though a process it forked may still hold the socket open
                raise WorkerDied(f"the worker ended (exit status {self.proc.returncode})")
        self.ctrl.settimeout(max(deadline - time.monotonic(), 0.5))
        try:
            header, _ = recv_message(self.ctrl, 2**20)
        except TimeoutError:
            raise CallTimeout(what) from None
        except (OSError, ValueError, ProtocolError) as e:
            raise WorkerDied(f"the worker ended ({e})") from None
        return header

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Kill the worker and everything it started."""
        for ep, _pid in self.open_calls:
            ep.sock.close()
        self.open_calls = []
        if self.ctrl is not None:
            self.ctrl.close()
            self.ctrl = None
        if self.proc is not None:
            self.kill_everything()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None

    def kill_everything(self) -> None:
        """SIGKILL every descendant (and, on Gradescope, every process of the worker's user)."""
        for _ in range(20):
            pids = descendants()
            if self.kill_uid and self.user is not None:
                pids += [p for p in _pids_of_uid(self.user[0]) if p not in pids]
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            self._reap()
            time.sleep(0.02)
        self._reap()

    def _reap(self) -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.proc is not None and pid == self.proc.pid:
                self.proc.returncode = -9

    def audit(self) -> list[str]:
        """What the worker reported touching among the protected paths since the last read."""
        if self.audit_fd is None:
            return []
        data = b""
        while True:
            try:
                chunk = os.read(self.audit_fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                break
            if not chunk:
                break
            data += chunk
            if len(data) > 2**20:
                break
        lines = data.decode("utf-8", "replace").splitlines()
        return list(dict.fromkeys(ln[:300] for ln in lines if ln.strip()))[:20]

    def close(self) -> None:
        self.stop()
        if self.audit_fd is not None:
            os.close(self.audit_fd)
            self.audit_fd = None
        shutil.rmtree(self.scratch, ignore_errors=True)

    # -- memory -----------------------------------------------------------------------------
    def watchdog(self) -> None:
        """Kill the worker's processes when together they use more than the memory limit.

        Resident sizes (cheap, read every WATCH_MEMORY_S) count the pages a forked child
        shares with its parent once per process, so a worker with many children reads far
        above its real footprint. The proportional set size (exact, slow to read) is read
        every WATCH_PSS_S while the resident sum is over the limit; in between the last
        exact figure plus the growth of the resident sum since then is the estimate, so a
        sudden allocation is still caught at once."""
        now = time.monotonic()
        if now - self._last_poll < WATCH_MEMORY_S:
            return
        self._last_poll = now
        if now - self._last_list >= WATCH_LIST_S:
            self._last_list = now
            self._pids = descendants()
        limit = self.limits.memory_mb * 2**20
        rss = sum(rss_bytes(p) for p in self._pids)
        self.peak_rss = max(self.peak_rss, rss)
        if rss <= limit:
            return
        estimate = self._pss_at + max(0, rss - self._rss_at)
        if estimate <= limit and now - self._pss_time < WATCH_PSS_S:
            return
        self._pids = descendants()
        total = sum(pss_bytes(p) for p in self._pids)
        self._pss_at, self._rss_at, self._pss_time = total, rss, time.monotonic()
        self.peak_pss = max(self.peak_pss, total)
        if total > limit:
            self.kill_everything()
            raise MemoryLimit(
                f"the submission's processes used more than {self.limits.memory_mb} MB of memory"
            )

    # -- the notebook -----------------------------------------------------------------------
    def run_notebook(self, budget_s: float) -> list[CellOutcome]:
        """Run every cell once (restarting after a hang or a crash); return what happened."""
        end = time.monotonic() + budget_s
        start_at = 0
        while True:
            if time.monotonic() >= end:
                self._skip_rest(start_at, "not run: the notebook used up its time budget")
                break
            try:
                if not self.alive():
                    self.start()
                    for i in range(start_at):  # replay what ran before the restart
                        if i not in self.skip:
                            self._exec(
                                i, max(1.0, min(self.limits.cell_timeout, end - time.monotonic()))
                            )
                for i in range(start_at, len(self.cells)):
                    start_at = i
                    if i in self.skip:
                        continue
                    limit = min(self.limits.cell_timeout, end - time.monotonic())
                    if limit <= 0:
                        raise CallTimeout("budget")
                    self.cell_outcomes[i] = CellOutcome(i, self._exec(i, limit))
                start_at = len(self.cells)
                break
            except CallTimeout:
                why = (
                    f"stopped after {self.limits.cell_timeout:g} s (the per-cell time limit)"
                    if time.monotonic() < end
                    else "stopped: the notebook used up its time budget"
                )
                self._fail_cell(start_at, why)
            except ChannelBroken as e:
                self._fail_cell(start_at, f"stopped: {_reason(e)}")
            if self.restarts >= self.limits.max_restarts:
                self._skip_rest(start_at + 1, "not run: too many restarts of the worker")
                break
            start_at += 1
            if start_at >= len(self.cells):
                break
        return [self.cell_outcomes[i] for i in sorted(self.cell_outcomes)]

    def _fail_cell(self, i: int, why: str) -> None:
        self.cell_outcomes[i] = CellOutcome(i, stopped=why)
        self.skip[i] = why
        self.stop()
        self.restarts += 1

    def _skip_rest(self, start: int, why: str) -> None:
        for i in range(start, len(self.cells)):
            if i not in self.cell_outcomes:
                self.cell_outcomes[i] = CellOutcome(i, stopped=why)
                self.skip[i] = why

    def _exec(self, i: int, timeout: float) -> str | None:
        send_message(self.ctrl, {"op": "exec", "index": i})
        header = self._control_reply(timeout, f"cell {i}")
        if header.get("op") != "done" or header.get("index") != i:
            self.flags.append("the worker sent a message the grader did not ask for")
            raise WorkerDied("the worker broke the control protocol")
        err = header.get("error")
        return str(err)[:600] if err is not None else None

    def ensure_running(self) -> None:
        """Restart a dead worker (replaying the cells that ran) before more calls."""
        if self.alive():
            return
        if self.restarts >= self.limits.max_restarts:
            raise WorkerDied("the worker could not be restarted again (too many restarts)")
        self.restarts += 1
        self.start()
        for i in range(len(self.cells)):
            if i not in self.skip:
                try:
                    self._exec(i, self.limits.cell_timeout)
                except (CallTimeout, ChannelBroken):
                    self.stop()
                    raise WorkerDied("the worker could not replay the notebook") from None

    # -- calls -----------------------------------------------------------------------------
    def endpoint_for_call(self, timeout: float, flags: list[str]) -> tuple[Endpoint, int]:
        """Fork a worker child with its own channel; return the grader's end and the child."""
        self.ensure_running()
        ours, theirs = socket.socketpair()
        try:
            send_message(self.ctrl, {"op": "fork"})
            socket.send_fds(self.ctrl, [b"F"], [theirs.fileno()])
            header = self._control_reply(min(timeout, 30.0), "fork")
        except CallTimeout:
            self.stop()
            raise WorkerDied("the worker did not answer (it was busy or stuck)") from None
        except WorkerDied:
            self.stop()  # the next call starts a fresh worker
            raise
        except OSError as e:
            self.stop()
            raise WorkerDied(f"the worker ended ({e})") from None
        finally:
            theirs.close()
        pid = header.get("pid")
        if header.get("op") != "forked" or not isinstance(pid, int) or _ppid(pid) != self.proc.pid:
            self.flags.append("the worker sent a forged or malformed control message")
            self.stop()
            raise WorkerDied("the worker broke the control protocol")
        ep = Endpoint(
            ours,
            may_export=may_export,
            getattr_allowed=getattr_allowed,
            encode_foreign=_encode_worker_global,
            watchdog=self.watchdog,
            max_bytes=self.limits.message_mb * 2**20,
            device=None,  # tensors keep the device they were sent from
            on_flag=flags.append,
        )
        ep.request_timeout = self.limits.call_timeout
        return ep, pid

    def call(self, name: str, args, kwargs, extra: dict, deadline: float, flags: list[str]):
        """Call the worker's global `name` in a fresh child, under `deadline`."""
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise CallTimeout("no time left")
        ep, pid = self.endpoint_for_call(timeout, flags)
        ep.deadline = deadline

        def watch() -> None:
            self.watchdog()
            if not _running(pid):  # a process it forked may still hold the channel open
                raise ChannelBroken("the call's process ended without answering")

        ep.watchdog = watch
        keep = False
        try:
            value = ep.call({"$": "name", "name": name}, args, kwargs, extra)
            keep = any(t.requires_grad for t in _tensors(value))
            return value
        except BaseException:
            self._kill_child(pid)
            raise
        finally:
            ep.deadline = None
            if keep:
                self.open_calls.append((ep, pid))  # kept for backward through the result
            else:
                ep.close()
                self._kill_child(pid)

    def end_case(self) -> None:
        """Close the children kept alive for backward passes."""
        for ep, pid in self.open_calls:
            ep.close()
            self._kill_child(pid)
        self.open_calls = []

    def _kill_child(self, pid: int) -> None:
        if self.proc is not None and _ppid(pid) == self.proc.pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _encode_worker_global(obj):
    if isinstance(obj, WorkerGlobal):
        return {"$": "global", "name": obj.name}
    return None


def _pids_of_uid(uid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    out.append(int(entry))
            except OSError:
                pass
    return out


def _reason(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text[:300]
