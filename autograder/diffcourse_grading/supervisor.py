"""The grader's hold on the worker: start it, run cells and calls under limits, kill it.

Every limit is enforced from here, outside the worker: wall time per cell and
per call (SIGKILL), memory (processes.MemoryWatch, polled while waiting), and
the end of grading (every descendant is killed; the grader is a child
subreaper, so a process that detached itself is still found). The worker runs
as an unprivileged user when the grader is root (see worker.enter_sandbox).

Calls: each test case gets a fresh fork of the worker (its calls share that
child; the next case starts from the notebook's state again). With
`worker_per_question` (CUDA: its state does not survive a fork) the worker
serves calls itself and is started afresh for every question instead.

(About 540 lines, one job: the Supervisor's state, one worker's life, is shared by
starting, the notebook and the calls. Process and memory readings live in processes.py,
what crosses the channel in boundary.py.)
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from diffcourse_grading.boundary import encode_worker_global, getattr_allowed, may_export
from diffcourse_grading.processes import (
    MemoryWatch,
    descendants,
    pids_of_uid,
    ppid,
    running,
    set_subreaper,
    stat_fields,
    unprivileged_user,
)
from diffcourse_grading.protocol import ProtocolError, recv_message, send_message
from diffcourse_grading.rpc import CallTimeout, ChannelBroken, Endpoint

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


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
    worker_per_question: bool = False  # calls served by the worker itself (see the top)
    decoy_tests: list[str] = field(default_factory=list)  # names of test files to imitate

    def __post_init__(self):
        self.user = unprivileged_user()
        self.subreaper = set_subreaper()
        self.proc: subprocess.Popen | None = None
        self.ctrl: socket.socket | None = None
        self.sandbox: dict = {}
        self.skip: dict[int, str] = {}  # cell -> why it is not run again
        self.cell_outcomes: dict[int, CellOutcome] = {}
        self.restarts = 0
        self.flags: list[str] = []
        self.case_channel: tuple[Endpoint, int] | None = None  # the test case's calls
        # Gradescope's layout: the working folder next to a results folder (with a decoy)
        self.base = Path(tempfile.mkdtemp(prefix="diffcourse-grading-"))
        os.chmod(self.base, 0o755)
        self.scratch = self.base / "work"
        self.scratch.mkdir()
        self.audit_fd: int | None = None  # the worker reports touches of protected paths here
        self.memory = MemoryWatch(self.limits.memory_mb)
        self.forks = 0  # call channels opened (a figure for the staff report and benches)
        self.served = False  # the worker itself served calls since it started
        self.notes: list[str] = []  # for the staff report
        self.sessions: set[int] = set()  # the workers' sessions (each starts its own)
        self.decoys: list[str] = []
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
        # decoys where Otter keeps its test files and its results (worker.install_audit)
        (self.scratch / "tests").mkdir(exist_ok=True)
        (self.scratch / "tmp").mkdir(exist_ok=True)
        self.decoys = []
        for name in self.decoy_tests:
            path = self.scratch / "tests" / name
            if not path.exists():
                spec = {"name": path.stem, "suites": []}
                path.write_text(f"OK_FORMAT = True\n\ntest = {spec!r}\n")
                self.decoys.append(str(path))
        fd, pkl = tempfile.mkstemp(suffix=".pkl", dir=self.scratch / "tmp")
        os.close(fd)
        results = self.base / "results" / "results.json"
        results.parent.mkdir(exist_ok=True)
        results.write_text("{}")
        self.decoys += [pkl, str(results)]
        if self.user is not None:
            uid, gid = self.user
            for root, dirs, files in os.walk(self.scratch):
                for name in dirs + files:
                    os.lchown(os.path.join(root, name), uid, gid)
            os.chown(self.scratch, uid, gid)
            for path in (results.parent, results):
                os.chown(path, uid, gid)

    def _env(self) -> dict:
        keep = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT", "VIRTUAL_ENV", "CONDA_PREFIX")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(
            {
                "PYTHONPATH": str(PACKAGE_ROOT),
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONUNBUFFERED": "1",
                "HOME": str(self.scratch),
                "TMPDIR": str(self.scratch / "tmp"),
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
        self.served = False
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
        self.sessions.add(self.proc.pid)
        if self.audit_fd is not None:
            os.close(self.audit_fd)
        self.audit_fd = audit_read
        self.ctrl = ours
        cfg = {
            "audit_fd": audit_write,
            "protected": [str(p.resolve()) for p in self.audited],
            "decoys": self.decoys,
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
        if self.case_channel is not None:
            self.case_channel[0].sock.close()
            self.case_channel = None
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

    def find_detached(self) -> None:
        """Flag processes that left the worker's session (setsid, a daemon): honest
        notebooks start none, and one that outlives grading could rewrite its results."""
        for pid in descendants():
            fields = stat_fields(pid)
            if not fields or pid in self.sessions or int(fields[3]) in self.sessions:
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read(200).replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                cmd = "?"
            flag = f"the notebook started a process that detached itself ({cmd[:120]})"
            if not any(f.startswith(flag[:60]) for f in self.flags):
                self.flags.append(flag)

    def kill_everything(self) -> None:
        """SIGKILL every descendant (and, on Gradescope, every process of the worker's user)."""
        self.find_detached()
        for _ in range(20):
            pids = descendants()
            if self.kill_uid and self.user is not None:
                pids += [p for p in pids_of_uid(self.user[0]) if p not in pids]
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
        shutil.rmtree(self.base, ignore_errors=True)

    # -- memory -----------------------------------------------------------------------------
    def watchdog(self) -> None:
        """Kill the worker's processes when together they use more than the memory limit."""
        if self.memory.over():
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
        self._start_and_replay()

    def new_question(self) -> None:
        """With `worker_per_question`: a fresh worker, the notebook replayed (not counted
        as a restart: it is the mode, not a crash)."""
        if self.worker_per_question and self.served:
            try:
                self._start_and_replay()
            except WorkerDied:
                pass  # stopped: the question's first call tries again (and counts it)

    def _start_and_replay(self) -> None:
        self.start()
        for i in range(len(self.cells)):
            if i not in self.skip:
                try:
                    self._exec(i, self.limits.cell_timeout)
                except (CallTimeout, ChannelBroken):
                    self.stop()
                    raise WorkerDied("the worker could not replay the notebook") from None

    # -- calls -----------------------------------------------------------------------------
    def open_channel(self, timeout: float, flags: list[str]) -> tuple[Endpoint, int]:
        """A channel for calls: a fresh fork of the worker (or, with `worker_per_question`,
        the worker itself) serving it; return the grader's end and the serving process."""
        self.ensure_running()
        ours, theirs = socket.socketpair()
        request, answer = ("serve", "serving") if self.worker_per_question else ("fork", "forked")
        try:
            send_message(self.ctrl, {"op": request})
            socket.send_fds(self.ctrl, [b"F"], [theirs.fileno()])
            header = self._control_reply(min(timeout, 30.0), request)
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
        pid, op = header.get("pid"), header.get("op")
        itself = op == "serving" and pid == self.proc.pid
        forked = op == answer == "forked" and isinstance(pid, int) and ppid(pid) == self.proc.pid
        if not (itself or forked):
            self.flags.append("the worker sent a forged or malformed control message")
            self.stop()
            raise WorkerDied("the worker broke the control protocol")
        if itself and answer == "forked":
            # it could not fork (the notebook used up the processes): it serves this test
            # case's calls itself (the other questions' functions are put back after each)
            note = f"calls served by the worker itself ({header.get('why')})"[:200]
            if note not in self.notes:
                self.notes.append(note)
        self.forks += 1
        self.served = self.served or itself
        ep = Endpoint(
            ours,
            may_export=may_export,
            getattr_allowed=getattr_allowed,
            encode_foreign=encode_worker_global,
            watchdog=self.watchdog,
            max_bytes=self.limits.message_mb * 2**20,
            device=None,  # tensors keep the device they were sent from
            on_flag=flags.append,
        )
        ep.request_timeout = self.limits.call_timeout
        return ep, pid

    def call(self, name: str, args, kwargs, extra: dict, deadline: float, flags: list[str]):
        """Call the worker's global `name` on the test case's channel, under `deadline`."""
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise CallTimeout("no time left")
        if self.case_channel is None or not running(self.case_channel[1]):
            self.end_case()
            self.case_channel = self.open_channel(timeout, flags)
        ep, pid = self.case_channel
        ep.on_flag = flags.append
        ep.deadline = deadline

        def watch() -> None:
            self.watchdog()
            if not running(pid):  # a process it forked may still hold the channel open
                raise ChannelBroken("the call's process ended without answering")

        ep.watchdog = watch
        try:
            return ep.call({"$": "name", "name": name}, args, kwargs, extra)
        except BaseException:
            self.end_case(kill=True)  # stuck, dead or broken: the next call starts afresh
            raise
        finally:
            ep.deadline = None

    def end_case(self, kill: bool = False) -> None:
        """Close the test case's channel (kept open until now for its later calls and for
        backward passes through its results) and end the process that served it."""
        if self.case_channel is None:
            return
        ep, pid = self.case_channel
        self.case_channel = None
        ep.close()
        if pid == getattr(self.proc, "pid", None):  # the worker itself served it
            if kill:
                self.stop()
        elif self.proc is not None and ppid(pid) == self.proc.pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _reason(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text[:300]
