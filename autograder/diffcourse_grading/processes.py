"""The worker's processes as the grader sees them from /proc: who they are, how much
memory they use together, and the watch that kills them when that is too much.

Linux only (as Gradescope and the grading containers are). Nothing here trusts what the
worker says about itself: every figure is read from the kernel.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import time

PR_SET_CHILD_SUBREAPER = 36
PAGE = os.sysconf("SC_PAGE_SIZE")
WATCH_MEMORY_S = 0.25  # how often the worker's memory is read while the grader waits
WATCH_LIST_S = 1.0  # how often its list of processes is refreshed
WATCH_PSS_S = 5.0  # how often the exact (slow) figure is read while resident sizes are high


def set_subreaper() -> bool:
    """Become the parent of every orphaned descendant (so detached processes are found)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name (state [0], ppid [1], session
    [3])."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2 :].split()


def descendants(pid: int | None = None) -> list[int]:
    """Every live descendant of `pid` (default: this process), from /proc."""
    root = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := stat_fields(int(entry))):
            children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def running(pid: int) -> bool:
    """Whether a process exists and has not exited (a zombie has)."""
    fields = stat_fields(pid)
    return bool(fields) and fields[0] not in (b"Z", b"X")


def ppid(pid: int) -> int | None:
    fields = stat_fields(pid)
    try:
        return int(fields[1]) if fields else None
    except (ValueError, IndexError):
        return None


def pids_of_uid(uid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    out.append(int(entry))
            except OSError:
                pass
    return out


def unprivileged_user() -> tuple[int, int] | None:
    """(uid, gid) of `nobody` when this process is root, else None (no drop possible)."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam("nobody")
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return 65534, 65534


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


class MemoryWatch:
    """Whether the grader's descendants together use more than `limit_mb`.

    Resident sizes (cheap, read every WATCH_MEMORY_S) count the pages a forked child
    shares with its parent once per process, so a worker with many children reads far
    above its real footprint. The proportional set size (exact, slow to read) is read
    every WATCH_PSS_S while the resident sum is over the limit; in between the last
    exact figure plus the growth of the resident sum since then is the estimate, so a
    sudden allocation is still caught at once."""

    def __init__(self, limit_mb: int):
        self.limit = limit_mb * 2**20
        self.peak_pss = 0  # measured only when the resident sizes pass the limit
        self.peak_rss = 0  # sum over the processes (shared pages counted in each)
        self._last_poll = self._last_list = 0.0
        self._pss_at = self._rss_at = 0  # the last exact reading and the resident sum then
        self._pss_time = -1e9
        self._pids: list[int] = []

    def over(self) -> bool:
        """True when the limit is passed (read at most every WATCH_MEMORY_S)."""
        now = time.monotonic()
        if now - self._last_poll < WATCH_MEMORY_S:
            return False
        self._last_poll = now
        if now - self._last_list >= WATCH_LIST_S:
            self._last_list = now
            self._pids = descendants()
        rss = sum(rss_bytes(p) for p in self._pids)
        self.peak_rss = max(self.peak_rss, rss)
        if rss <= self.limit:
            return False
        estimate = self._pss_at + max(0, rss - self._rss_at)
        if estimate <= self.limit and now - self._pss_time < WATCH_PSS_S:
            return False
        self._pids = descendants()
        total = sum(pss_bytes(p) for p in self._pids)
        self._pss_at, self._rss_at, self._pss_time = total, rss, time.monotonic()
        self.peak_pss = max(self.peak_pss, total)
        return total > self.limit
