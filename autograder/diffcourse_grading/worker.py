"""The untrusted side: execute the submission's code, then serve calls from forked children.

    python -m diffcourse_grading.worker FD

FD is the control socket the grader passed. The first message ("init") carries
the code cells, the scratch folder, the user to become and the limits. Before
any student code runs the worker enters its sandbox (`enter_sandbox`): no
network where the kernel allows a new network namespace, resource limits
(data segment, processes, file size, core dumps), then, when started as root,
the unprivileged user. The grader enforces time and total memory from outside.

Control requests, answered in order on the control socket:
  exec {index}  run one code cell in an IPython shell -> done {index, error}
  fork          (an fd follows, sent with socket.send_fds) fork a child that
                serves calls on that fd until it is closed -> forked {pid}
  serve         (an fd follows) serve calls on that fd in this process, then
                read the next request (CUDA: its state does not survive a
                fork) -> serving {pid}
  exit
Calls are by global name ("call" with target {"$": "name"}): the names in
extra["inject"] (other questions' functions) are first replaced by the
grader's references, then the function is called; in a forked child the state
it changes dies with the child.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import signal
import socket
import sys
import types

from diffcourse_grading.otter_stub import otter_stub

CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
# File descriptors the worker holds back from the submission: released just before a fork
# request's channel is received, so a notebook that opens files until the limit
# (EMFILE) still leaves room for the channel and for the call's child.
RESERVED_FDS = 16


def _unshare_network() -> str:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            return f"not isolated (unshare: {os.strerror(err)})"
    except (OSError, AttributeError) as e:
        return f"not isolated ({e})"
    return "isolated (new network namespace)"


def _needed_paths() -> list[str]:
    """Folders the unprivileged worker must reach: the interpreter, its libraries, ours."""
    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
    }
    paths.update(p for p in sys.path if p and os.path.isabs(p))
    return sorted(os.path.realpath(p) for p in paths if os.path.exists(p))


def _blocked_ancestors(paths: list[str]) -> dict[str, list[str]]:
    """Closed folders (no search permission for others) above the needed paths -> the
    needed paths below each (only the outermost of nested ones)."""
    blocked: dict[str, list[str]] = {}
    for p in paths:
        parts = p.strip("/").split("/")
        for k in range(len(parts) - 1):
            anc = "/" + "/".join(parts[: k + 1])
            if not os.stat(anc).st_mode & 0o001:
                blocked.setdefault(anc, []).append(p)
                break
    for anc, ps in blocked.items():
        blocked[anc] = [p for p in ps if not any(p.startswith(q + "/") for q in ps)]
    return blocked


def _expose_interpreter(allow_chmod: bool = False) -> str:
    """Let the unprivileged user reach Python and our package when they sit in a closed
    folder (a Python installed under /root, as Gradescope's Miniforge is): in a private
    mount namespace each closed folder is covered by an empty tmpfs in which only the
    needed folders are bound, at their own paths."""
    blocked = _blocked_ancestors(_needed_paths())
    if not blocked:
        return "reachable"
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]

    def mount(src, dst, fstype, flags, data=None):
        rc = libc.mount(
            src.encode() if src else None,
            dst.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        )
        if rc != 0:
            raise OSError(ctypes.get_errno(), f"mount {dst}: {os.strerror(ctypes.get_errno())}")

    ms_bind, ms_rec, ms_private, ms_move = 4096, 16384, 1 << 18, 8192
    if libc.unshare(CLONE_NEWNS) != 0:
        why = os.strerror(ctypes.get_errno())
        if allow_chmod:  # a throw-away container (Gradescope): open the folders for search
            for anc in blocked:
                os.chmod(anc, os.stat(anc).st_mode | 0o001)
            return f"made {sorted(blocked)} searchable by others (no mount namespace: {why})"
        return f"unreachable: closed folders {sorted(blocked)} and no mount namespace ({why})"
    mount(None, "/", None, ms_rec | ms_private)
    import tempfile

    for anc, needed in blocked.items():
        staged = {}
        for path in needed:
            stage = tempfile.mkdtemp(prefix="diffcourse-stage-")
            mount(path, stage, None, ms_bind | ms_rec)
            staged[path] = stage
        mount("tmpfs", anc, "tmpfs", 0, "mode=0755,size=1m")
        for path, stage in staged.items():
            os.makedirs(path, 0o755, exist_ok=True)
            mount(stage, path, None, ms_move)
            os.rmdir(stage)
    return f"exposed {sum(map(len, blocked.values()))} folder(s) in {sorted(blocked)}"


def _threads_of(uid: int) -> int:
    """How many threads the user runs now (what RLIMIT_NPROC counts)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields["Threads"])
        except (OSError, KeyError, ValueError):
            continue
    return total


def enter_sandbox(cfg: dict) -> dict:
    """Limits, no network, the unprivileged user and the scratch folder; returns a report."""
    report = {}
    if cfg.get("isolate_network", True):
        report["network"] = _unshare_network()
    else:
        report["network"] = "not isolated (disabled)"
    limits = cfg.get("limits", {})
    mb = 2**20
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # If the box runs out of memory anyway (a fork flood whose children each stay under
    # RLIMIT_DATA), the kernel's OOM killer picks the worker and its children first, never
    # the grader: results.json is still written. Raising one's own score needs no privilege.
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
        report["oom_score_adj"] = "1000"
    except OSError as e:
        report["oom_score_adj"] = f"not set ({e.strerror})"
    if limits.get("file_mb"):
        n = int(limits["file_mb"]) * mb
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
    if limits.get("data_mb"):
        n = int(limits["data_mb"]) * mb
        resource.setrlimit(resource.RLIMIT_DATA, (n, n))
    uid, gid = cfg.get("uid"), cfg.get("gid")
    if uid is None or os.geteuid() != 0:
        report["user"] = f"uid {os.getuid()} (not dropped: the grader is not root)"
        uid = None
    else:
        try:
            report["interpreter"] = _expose_interpreter(bool(cfg.get("throwaway_machine")))
        except Exception as e:  # noqa: BLE001 - reported below
            report["interpreter"] = f"unreachable: {e}"
        if report["interpreter"].startswith("unreachable"):
            # the unprivileged user could not even start Python: grade without the drop
            report["user"] = "not dropped: Python is not reachable by the unprivileged user"
            uid = None
    if uid is not None:
        if limits.get("processes"):
            # RLIMIT_NPROC counts every thread of the user, machine-wide: allow `processes`
            # more than the user runs already (other graders on a shared machine)
            n = int(limits["processes"]) + _threads_of(int(uid))
            hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
            if hard != resource.RLIM_INFINITY:
                n = min(n, hard)
            resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
            report["processes"] = f"at most {limits['processes']} more (RLIMIT_NPROC {n})"
        os.setgroups([])
        os.setgid(int(gid))
        os.setuid(int(uid))
        report["user"] = f"uid {uid}"
    os.chdir(cfg["scratch"])
    return report


AUDITED = {
    "open", "os.listdir", "os.scandir", "os.chdir", "os.rename", "os.remove", "os.rmdir",
    "os.chmod", "os.chown", "os.link", "os.symlink", "os.truncate", "shutil.rmtree",
    "os.utime", "os.mkdir",
}  # fmt: skip


WRITES = ("w", "a", "x", "+")
_audit: dict = {"fd": None}  # the grader's audit pipe, once install_audit has run
# another process's memory, or the map of it that reading the memory starts from
PROC_MEM = re.compile(r"/proc/(\d+)/(mem|maps|smaps|environ|task/\d+/(mem|maps))$")


def install_audit(fd: int | None, protected: list[str], decoys: list[str]) -> None:
    """Report on `fd`, one line each, what looks like tampering (an audit hook cannot be
    removed once added): reaching the grader's protected paths (the tests, the reference,
    the results); changing the decoy test files in the working folder, or opening the
    decoy of Otter's results file in the temporary folder (honest code has no use for
    either: `grader.check` does nothing here); reading another process's memory."""
    if fd is None:
        return
    _audit["fd"] = fd
    prefixes = tuple(p.rstrip("/") for p in protected)
    decoy_set = frozenset(decoys)
    fsdecode, isabs, join, normpath = os.fsdecode, os.path.isabs, os.path.join, os.path.normpath
    getcwd, getpid = os.getcwd, os.getpid

    def what(event, path, args) -> str | None:
        if any(path == p or path.startswith(p + "/") for p in prefixes):
            return f"tried to reach the grader's files ({event} {path})"
        if path in decoy_set:
            if path.endswith(".pkl"):
                return f"looked for Otter's results file to change it ({event} {path})"
            mode = args[1] if event == "open" and len(args) > 1 else None
            writes = event != "open" or (isinstance(mode, str) and any(c in mode for c in WRITES))
            flags = args[-1] if isinstance(args[-1], int) else 0
            if writes or flags & (os.O_WRONLY | os.O_RDWR | os.O_TRUNC):
                if path.endswith("results.json"):
                    return f"tried to write the results ({event} {path})"
                return f"tried to change the test files ({event} {path})"
        m = PROC_MEM.match(path)
        if m and m.group(1) != str(getpid()) and event == "open":
            return f"tried to read another process's memory ({path})"
        return None

    def hook(event, args):
        if event not in AUDITED or not args:
            return
        path = args[0]
        if not isinstance(path, (str, bytes, os.PathLike)):
            return
        try:
            path = fsdecode(path)
            path = normpath(path if isabs(path) else join(getcwd(), path))
            line = what(event, path, args)
        except Exception:  # noqa: BLE001
            return
        if line:
            report(line)

    sys.addaudithook(hook)


def report(line: str) -> None:
    """Tell the grader about something that looks like tampering (see install_audit)."""
    if _audit["fd"] is None:
        return
    try:
        os.write(_audit["fd"], (line.replace("\n", " ")[:400] + "\n").encode(errors="replace"))
    except OSError:
        pass


class Worker:
    def __init__(self, ctrl: socket.socket, cfg: dict):
        self.ctrl = ctrl
        self.cfg = cfg
        self.cells: list[str] = cfg["cells"]
        self.shell = None
        self.reserved: list[int] = []
        self.hold_fds()

    def hold_fds(self) -> None:
        """Take back the reserve (as much of it as is free)."""
        while len(self.reserved) < RESERVED_FDS:
            try:
                self.reserved.append(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
            except OSError:
                return

    def release_fds(self) -> None:
        for fd in self.reserved:
            os.close(fd)
        self.reserved = []

    def start_shell(self) -> None:
        os.environ.setdefault("MPLBACKEND", "Agg")
        sys.modules["otter"] = otter_stub(report)
        import torch  # noqa: F401 - loaded before student code, with one thread

        import diffcourse_grading.rpc  # noqa: F401 - once here, not in every call's child

        torch.set_num_threads(1)
        from IPython.core.interactiveshell import InteractiveShell

        self.shell = InteractiveShell.instance(cache_size=0, colors="nocolor")
        self.shell.user_ns["__name__"] = "__main__"

    def run_cell(self, index: int) -> str | None:
        result = self.shell.run_cell(self.cells[index], store_history=False, silent=False)
        err = result.error_before_exec or result.error_in_exec
        if err is None:
            return None
        return f"{type(err).__name__}: {err}"[:600]

    # -- children ---------------------------------------------------------------------
    def fork_child(self, fd: int) -> int:
        import gc

        gc.freeze()  # the child's collector leaves the parent's objects (and pages) alone
        pid = os.fork()
        if pid == 0:  # the child: serve one call, then vanish
            code = 0
            try:
                gc.disable()  # short-lived: no collection to copy pages for
                self.ctrl.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                if os.environ.get("DIFFCOURSE_GRADING_DEBUG"):
                    import faulthandler

                    faulthandler.dump_traceback_later(4, exit=False)
                self.serve_call(fd)
            except BaseException:  # noqa: BLE001 - stderr is the grader's only with debugging on
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        os.close(fd)
        return pid

    def serve_call(self, fd: int) -> None:
        from diffcourse_grading.rpc import Endpoint

        sock = socket.socket(fileno=fd)
        ns = self.shell.user_ns

        def call_global(name, args, kwargs, extra):
            extra = extra or {}
            inject = extra.get("inject") or {}
            # put back after the call: a worker serving calls itself must not keep the
            # stubs (their channel closes) in place of the submission's own functions
            saved = {k: ns[k] for k in inject if k in ns}
            ns.update(inject)
            try:
                mode = extra.get("mode", "call")
                if mode == "describe":
                    return {n: describe(ns, n) for n in args}
                if name not in ns:
                    raise NameError(f"name '{name}' is not defined")
                if mode == "fetch":
                    return ns[name]
                return ns[name](*args, **kwargs)
            finally:
                for k in inject:
                    ns.pop(k, None)
                ns.update(saved)

        def resolve_global(name):
            if name not in ns:
                raise NameError(f"name '{name}' is not defined")
            return ns[name]

        try:
            Endpoint(sock, call_global=call_global, resolve_global=resolve_global).serve()
        finally:
            sock.close()

    def loop(self) -> None:
        from diffcourse_grading.protocol import recv_message, send_message

        while True:
            _reap_children()
            header, _ = recv_message(self.ctrl)
            _reap_children()
            op = header["op"]
            if op == "exec":
                i = int(header["index"])
                send_message(self.ctrl, {"op": "done", "index": i, "error": self.run_cell(i)})
            elif op in ("fork", "serve"):
                self.release_fds()  # room for the channel even when the notebook took all
                _, fds, _, _ = socket.recv_fds(self.ctrl, 1, 1)
                if len(fds) != 1:
                    raise RuntimeError(f"{op} request without a channel")
                why = None
                if op == "fork":
                    try:
                        pid = self.fork_child(fds[0])
                    except OSError as e:  # the notebook used up the processes (or memory)
                        why = f"could not fork: {e.strerror or e}"
                    else:
                        self.hold_fds()
                        send_message(self.ctrl, {"op": "forked", "pid": pid})
                        continue
                # CUDA, or no fork possible: serve the test case's calls here
                send_message(self.ctrl, {"op": "serving", "pid": os.getpid(), "why": why})
                try:
                    self.serve_call(fds[0])
                except Exception:  # noqa: BLE001 - a broken channel ends only that case
                    pass
                self.hold_fds()
            elif op == "exit":
                return


def _reap_children() -> None:
    """Collect finished call children, so that their CPU time is counted (in this process's
    children's usage, which reaches the grader when it reaps this one)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def describe(ns: dict, name: str) -> dict:
    """What a global is, for the grader's test namespace."""
    from diffcourse_grading.protocol import Encoder

    if name not in ns:
        return {"kind": "missing"}
    value = ns[name]
    if isinstance(value, types.ModuleType):
        return {"kind": "module", "module": getattr(value, "__name__", name)}
    if callable(value):
        return {"kind": "function"}
    try:
        Encoder().encode(value)
    except TypeError:
        return {"kind": "object", "type": type(value).__qualname__[:80]}
    return {"kind": "data"}


def main(argv: list[str]) -> int:
    from diffcourse_grading.protocol import recv_message, send_message

    ctrl = socket.socket(fileno=int(argv[0]))
    header, _ = recv_message(ctrl)
    if header["op"] != "init":
        return 2
    cfg = json.loads(header["config"])
    report = enter_sandbox(cfg)
    install_audit(cfg.get("audit_fd"), cfg.get("protected", []), cfg.get("decoys", []))
    worker = Worker(ctrl, cfg)
    worker.start_shell()
    send_message(ctrl, {"op": "ready", "sandbox": report, "pid": os.getpid()})
    worker.loop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
