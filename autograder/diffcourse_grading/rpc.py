"""Calls across the grader/worker boundary: one socket, nested calls, objects by reference.

An Endpoint is one end of a channel. `call` sends a request and serves the
other side's nested requests (callbacks) until the reply comes, so
grader -> worker -> grader -> ... works on one socket, single-threaded.
Requests: "call" (a reference or, on the worker, a global name), "getattr",
"list" (iterate a remote object), "vjp" (backward through a finished call)
and "close". Replies: "return" or "raise".

Objects that are not plain data stay where they live: the sender exports them
(`export`) and the receiver gets a RemoteObject, whose calls and attribute reads
go back over the channel. When a call runs with gradients enabled and its
result carries a graph, the callee keeps the graph and the caller wraps the
result in an autograd.Function whose backward asks the callee for the
vector-Jacobian product, so backpropagation crosses the boundary both ways
(parameter gradients accumulate on the side that owns the parameters).
"""

from __future__ import annotations

import builtins
import select
import socket
import time
import traceback

import torch

from diffcourse_grading.protocol import (
    DEFAULT_MAX_MESSAGE_BYTES,
    Decoder,
    Encoder,
    PeerClosed,
    ProtocolError,
    apply_changes,
    recv_message,
    send_message,
)

POLL_SECONDS = 0.1


class CallTimeout(KeyboardInterrupt):
    """A call ran past its limit. A KeyboardInterrupt, so no test's `except` swallows it."""


class ChannelBroken(KeyboardInterrupt):
    """The other side died or broke the protocol in the middle of a call."""


class RemoteError(Exception):
    """The other side raised; `remote_type` and `remote_traceback` say what and where."""

    remote_type = "Exception"
    remote_traceback = ""


_remote_classes: dict[str, type] = {}


def remote_exception(type_name: str, message: str, tb: str = "") -> RemoteError:
    """An exception to raise locally for one raised remotely: a subclass of the builtin
    exception of the same name where there is one, so `except ValueError` still works."""
    base = getattr(builtins, type_name, None)
    if not (isinstance(base, type) and issubclass(base, Exception)) or issubclass(
        base, (KeyboardInterrupt, SystemExit)
    ):
        base = None
    key = type_name if base else "RemoteError"
    cls = _remote_classes.get(key)
    if cls is None:
        cls = RemoteError if base is None else type(type_name, (base, RemoteError), {})
        _remote_classes[key] = cls
    exc = cls(message)
    exc.remote_type = type_name
    exc.remote_traceback = tb
    return exc


class RemoteObject:
    """An object that lives on the other side of a channel."""

    __slots__ = ("_ep", "_id", "_type")

    def __init__(self, ep: Endpoint, oid: int, type_name: str):
        object.__setattr__(self, "_ep", ep)
        object.__setattr__(self, "_id", oid)
        object.__setattr__(self, "_type", type_name)

    def __call__(self, *args, **kwargs):
        return self._ep.call({"$": "back", "id": self._id}, args, kwargs)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(
                f"{name} of a {self._type} passed in by the grader is not readable"
            )
        return self._ep.remote_getattr(self._id, name)

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot set attributes of a {self._type} passed in by the grader")

    def __iter__(self):
        return iter(self._ep.remote_list(self._id))

    def __repr__(self):
        return f"<{self._type} (remote)>"


def _substitute(value, mapping: dict):
    if isinstance(value, torch.Tensor):
        return mapping.get(id(value), value)
    if isinstance(value, list):
        return [_substitute(v, mapping) for v in value]
    if isinstance(value, tuple):
        return tuple(_substitute(v, mapping) for v in value)
    if isinstance(value, dict):
        return {k: _substitute(v, mapping) for k, v in value.items()}
    return value


class _Bridge(torch.autograd.Function):
    """Connects a remote result to the local graph; backward asks the callee for the VJP."""

    @staticmethod
    def forward(ctx, ep, vid, n_in, dummy, *tensors):
        ctx.ep, ctx.vid, ctx.n_in = ep, vid, n_in
        return tuple(t.clone() for t in tensors[n_in:])

    @staticmethod
    def backward(ctx, *grads):
        in_grads = ctx.ep.remote_vjp(ctx.vid, list(grads), ctx.n_in)
        return (None, None, None, None, *in_grads, *([None] * len(grads)))


class Endpoint:
    """One end of a call channel (see the module docstring).

    export(obj) -> bool: whether this side may hand out a reference to obj.
    getattr_allowed(name) -> bool: which attributes of exported objects the peer may read.
    call_global(name, args, kwargs, extra) -> value: calls by name (the worker's globals).
    resolve_global(name) -> object: a {"$": "global"} reference (the worker's globals).
    watchdog() -> None: run while waiting; may raise (memory limit, ...).
    """

    def __init__(
        self,
        sock: socket.socket,
        *,
        may_export=lambda obj: True,
        getattr_allowed=lambda name: not name.startswith("_"),
        call_global=None,
        resolve_global=None,
        encode_foreign=None,
        watchdog=None,
        max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        device: str | None = None,
        on_flag=None,
    ):
        self.sock = sock
        self.may_export = may_export
        self.getattr_allowed = getattr_allowed
        self.call_global = call_global
        self.resolve_global = resolve_global
        self.encode_foreign = encode_foreign  # obj -> wire node or None (e.g. worker globals)
        self.watchdog = watchdog
        self.max_bytes = max_bytes
        self.device = device
        self.on_flag = on_flag or (lambda what: None)
        self.local: dict[int, object] = {}
        self._local_ids: dict[int, int] = {}
        self.records: dict[int, tuple[list, list]] = {}
        self.deadline: float | None = None  # absolute (time.monotonic) limit of the current call
        self.request_timeout: float | None = None  # a limit for requests made outside a call
        self._depth = 0
        self.closed = False
        self.stats = {"requests_served": 0, "calls_made": 0}

    # -- references ---------------------------------------------------------------------
    def export(self, obj):
        if isinstance(obj, RemoteObject) and obj._ep is self:
            return {"$": "back", "id": obj._id}
        if self.encode_foreign is not None:
            node = self.encode_foreign(obj)
            if node is not None:
                return node
        if isinstance(obj, RemoteObject) or not self.may_export(obj):
            raise TypeError(
                f"cannot send an object of type {type(obj).__module__}.{type(obj).__qualname__}"
            )
        key = id(obj)
        oid = self._local_ids.get(key)
        if oid is None or self.local.get(oid) is not obj:
            oid = len(self.local) + 1
            self.local[oid] = obj
            self._local_ids[key] = oid
        return {"$": "remote", "id": oid, "type": type(obj).__qualname__}

    def resolve(self, node):
        if node["$"] == "back":
            oid = node.get("id")
            if oid not in self.local:
                raise ProtocolError(f"reference to an object id {oid!r} that was never sent")
            return self.local[oid]
        if node["$"] == "remote":
            return RemoteObject(self, int(node["id"]), str(node.get("type", "object"))[:80])
        if node["$"] == "global" and self.resolve_global is not None:
            return self.resolve_global(str(node.get("name")))
        raise ProtocolError(f"unknown reference {node['$']!r}")

    def _decoder(self, buffers) -> Decoder:
        dec = Decoder(buffers, self._resolve_any, self.device)
        return dec

    def _resolve_any(self, node):
        return self.resolve(node)

    # -- low level ----------------------------------------------------------------------
    def _remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - time.monotonic()

    def _send(self, header: dict, buffers=()) -> None:
        rem = self._remaining()
        self.sock.settimeout(None if rem is None else max(rem, 0.01))
        try:
            send_message(self.sock, header, list(buffers))
        except TimeoutError:
            raise CallTimeout("the other side stopped reading") from None
        except OSError as e:
            raise ChannelBroken(f"the channel broke while sending ({e})") from None

    def _recv(self):
        while True:
            rem = self._remaining()
            if rem is not None and rem <= 0:
                raise CallTimeout("time limit")
            wait = POLL_SECONDS if rem is None else min(POLL_SECONDS, rem)
            ready, _, _ = select.select([self.sock], [], [], wait)
            if self.watchdog is not None:
                self.watchdog()
            if ready:
                break
        rem = self._remaining()
        self.sock.settimeout(None if rem is None else max(rem, 0.01))
        try:
            return recv_message(self.sock, self.max_bytes)
        except TimeoutError:
            raise CallTimeout("time limit (in the middle of a message)") from None
        except PeerClosed as e:
            raise ChannelBroken(f"the other side closed the channel ({e})") from None
        except ProtocolError as e:
            self.on_flag(f"malformed message: {e}")
            raise ChannelBroken(f"malformed message: {e}") from None
        except OSError as e:
            raise ChannelBroken(f"the channel broke ({e})") from None

    def request(self, header: dict, buffers=()):
        """Send a request; serve nested requests until its reply; return (header, buffers)."""
        own_deadline = self._depth == 0 and self.deadline is None and self.request_timeout
        if own_deadline:
            self.deadline = time.monotonic() + self.request_timeout
        self._depth += 1
        try:
            self._send(header, buffers)
            while True:
                reply, bufs = self._recv()
                if reply["op"] in ("return", "raise"):
                    return reply, bufs
                self._serve_one(reply, bufs)
        finally:
            self._depth -= 1
            if own_deadline:
                self.deadline = None

    # -- caller side ----------------------------------------------------------------------
    def call(self, target, args, kwargs, extra: dict | None = None):
        """Call `target` (a wire reference node) on the other side; return its value."""
        grad = torch.is_grad_enabled()
        enc = Encoder(self.export)
        header = {
            "op": "call",
            "target": target,
            "args": enc.encode(list(args)),
            "kwargs": enc.encode(dict(kwargs)),
            "grad": grad,
        }
        if extra:
            header["extra"] = enc.encode(extra)
        grad_inputs = [t for t in enc.sent if isinstance(t, torch.Tensor) and t.requires_grad]
        self.stats["calls_made"] += 1
        reply, bufs = self.request(header, enc.buffers)
        return self._result(reply, bufs, enc, grad, grad_inputs)

    def _result(self, reply, bufs, enc, grad, grad_inputs):
        dec = self._decoder(bufs)
        if reply["op"] == "raise":
            raise remote_exception(
                str(reply.get("type", "Exception"))[:100],
                str(reply.get("message", ""))[:4000],
                str(reply.get("tb", ""))[:8000],
            )
        try:
            value = dec.decode(reply.get("value"))
            apply_changes(enc.sent, reply.get("changes", []), dec)
        except ProtocolError as e:
            self.on_flag(f"malformed reply: {e}")
            raise ChannelBroken(f"malformed reply: {e}") from None
        outs = dec.grad_leaves
        vid = reply.get("vjp")
        if outs and grad and isinstance(vid, int):
            dummy = torch.zeros((), requires_grad=True)
            detached = [o.detach() for o in outs]
            new = _Bridge.apply(self, vid, len(grad_inputs), dummy, *grad_inputs, *detached)
            value = _substitute(value, {id(o): n for o, n in zip(outs, new, strict=True)})
        else:
            for o in outs:
                o.requires_grad_(False)
        return value

    def remote_getattr(self, oid: int, name: str):
        reply, bufs = self.request({"op": "getattr", "obj": {"$": "back", "id": oid}, "name": name})
        return self._result(reply, bufs, Encoder(), False, [])

    def remote_list(self, oid: int):
        reply, bufs = self.request({"op": "list", "obj": {"$": "back", "id": oid}})
        return self._result(reply, bufs, Encoder(), False, [])

    def remote_vjp(self, vid: int, grads: list, n_in: int) -> list:
        enc = Encoder()
        header = {"op": "vjp", "id": vid, "grads": enc.encode(grads)}
        reply, bufs = self.request(header, enc.buffers)
        with torch.no_grad():
            out = self._result(reply, bufs, enc, False, [])
        if not (isinstance(out, list) and len(out) == n_in):
            self.on_flag("malformed gradient reply")
            raise ChannelBroken("malformed gradient reply")
        return [g if g is None or isinstance(g, torch.Tensor) else None for g in out]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.sock.settimeout(0.5)
                send_message(self.sock, {"op": "close"})
            except OSError:
                pass
            self.sock.close()

    # -- callee side ----------------------------------------------------------------------
    def serve(self) -> None:
        """Serve requests until "close" or the end of the channel."""
        while not self.closed:
            try:
                header, bufs = self._recv()
            except ChannelBroken:
                return
            if header["op"] == "close":
                return
            self._serve_one(header, bufs)

    def _serve_one(self, header: dict, bufs) -> None:
        op = header["op"]
        self.stats["requests_served"] += 1
        enc = Encoder(self.export)
        try:
            dec = self._decoder(bufs)
            if op == "call":
                value, vid = self._do_call(header, dec, enc)
                reply = {"op": "return", "value": enc.encode(value), "vjp": vid}
                reply["changes"] = dec.changes(enc)
            elif op == "getattr":
                obj = dec.decode(header.get("obj"))
                name = header.get("name")
                if not isinstance(name, str) or not self.getattr_allowed(name):
                    self.on_flag(f"tried to read attribute {str(name)[:60]!r} of a grader object")
                    raise AttributeError(f"attribute {str(name)[:60]!r} is not readable here")
                reply = {"op": "return", "value": enc.encode(getattr(obj, name))}
            elif op == "list":
                obj = dec.decode(header.get("obj"))
                reply = {"op": "return", "value": enc.encode(list(obj))}
            elif op == "vjp":
                reply = {"op": "return", "value": enc.encode(self._do_vjp(header, dec))}
            else:
                self.on_flag(f"unknown request {op[:40]!r}")
                raise ProtocolError(f"unknown request {op[:40]!r}")
        except (CallTimeout, ChannelBroken):
            raise
        except ProtocolError as e:
            self.on_flag(f"malformed request: {e}")
            enc = Encoder()
            reply = {"op": "raise", "type": "ProtocolError", "message": str(e)}
        except BaseException as e:  # noqa: BLE001 - every failure goes back to the caller
            enc = Encoder()
            reply = {
                "op": "raise",
                "type": type(e).__name__,
                "message": str(e)[:4000],
                "tb": traceback.format_exc(limit=-8)[-8000:],
            }
        try:
            self._send(reply, enc.buffers)
        except TypeError as e:  # a value that cannot be sent
            self._send({"op": "raise", "type": "TypeError", "message": str(e)})

    def _do_call(self, header, dec: Decoder, enc: Encoder):
        grad = bool(header.get("grad"))
        target = header.get("target")
        args = dec.decode(header.get("args"))
        kwargs = dec.decode(header.get("kwargs"))
        extra = dec.decode(header["extra"]) if "extra" in header else None
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise ProtocolError("call arguments must be a list and a dict")
        with torch.set_grad_enabled(grad):
            if isinstance(target, dict) and target.get("$") == "name":
                if self.call_global is None:
                    self.on_flag("asked the grader to call a global by name")
                    raise ProtocolError("calls by name are not served here")
                value = self.call_global(str(target.get("name")), args, kwargs, extra)
            else:
                fn = dec.decode(target)
                if isinstance(fn, RemoteObject):
                    raise ProtocolError("the call target is not an object of this side")
                value = fn(*args, **kwargs)
        vid = None
        if grad:
            outs = [t for t in _tensors(value) if t.requires_grad]
            if outs:
                vid = len(self.records) + 1
                self.records[vid] = (outs, list(dec.grad_leaves))
        return value, vid

    def _do_vjp(self, header, dec: Decoder):
        vid = header.get("id")
        if vid not in self.records:
            raise ProtocolError(f"no graph {vid!r} to differentiate")
        outs, leaves = self.records[vid]
        grads = dec.decode(header.get("grads"))
        if not isinstance(grads, list) or len(grads) != len(outs):
            raise ProtocolError("gradients do not match the outputs")
        pairs = []
        for o, g in zip(outs, grads, strict=True):
            if g is None:
                continue
            if not isinstance(g, torch.Tensor) or g.shape != o.shape:
                raise ProtocolError("a gradient does not match its output's shape")
            pairs.append((o, g.to(o.dtype)))
        for leaf in leaves:
            leaf.grad = None
        if pairs:
            with torch.enable_grad():
                torch.autograd.backward(
                    [o for o, _ in pairs], [g for _, g in pairs], retain_graph=True
                )
        return [leaf.grad for leaf in leaves]


def _tensors(value, depth: int = 0):
    if depth > 64:
        return
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors(v, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v, depth + 1)
