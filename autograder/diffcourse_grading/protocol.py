"""The plain-data wire format between the grader and the worker.

A message is a length-prefixed JSON header followed by raw buffers:

    !I header length | header (UTF-8 JSON) | buffer 0 | buffer 1 | ...

where the header lists the buffers' lengths under "buffers". Values travel as
JSON trees: None, bool, int, float and str as themselves, everything else as a
tagged object {"$": tag, ...}. Allowed: list, tuple, dict with str keys,
torch.Tensor (dtype, shape, bytes, requires_grad), numpy arrays and scalars of
numeric dtypes, torch.dtype, torch.device, torch.Generator (its state), bytes.
Nothing is ever pickled. Any other object is refused with a TypeError naming
its type, unless the sender's `export` hook turns it into a reference
({"$": "remote", "id": n}: an object that stays with the sender and is reached
through calls) or the object is a reference the receiver gave out
({"$": "back", "id": n}).

Each Decoder remembers the tensors and generators it created, in order, so the
receiver can send back the ones a call changed in place (`changes`), and the
sender can mirror them onto its own objects (`apply_changes`).
"""

from __future__ import annotations

import json
import socket
import struct

import numpy as np
import torch

HEADER = struct.Struct("!I")
MAX_HEADER_BYTES = 16 * 2**20
DEFAULT_MAX_MESSAGE_BYTES = 512 * 2**20
MAX_DEPTH = 64
NUMPY_KINDS = "biufc"  # bool, signed, unsigned, float, complex
_TORCH_DTYPES = {
    str(d).removeprefix("torch."): d for d in vars(torch).values() if isinstance(d, torch.dtype)
}


class ProtocolError(Exception):
    """A message that is not well-formed (a forged or truncated stream)."""


class PeerClosed(ProtocolError):
    """The other end closed the channel (or died) before a whole message arrived."""


# -- framing --------------------------------------------------------------------------


def send_message(sock: socket.socket, header: dict, buffers: list[bytes] = ()) -> None:
    header = dict(header, buffers=[len(b) for b in buffers])
    data = json.dumps(header, separators=(",", ":")).encode("utf-8")
    parts = [HEADER.pack(len(data)), data, *buffers]
    if sum(len(p) for p in parts) <= 4 * 2**20:
        sock.sendall(b"".join(parts))  # one system call for the usual small message
        return
    for p in parts:
        if len(p):
            sock.sendall(p)


def _recv_exact(sock: socket.socket, n: int) -> bytearray:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise PeerClosed("the channel closed in the middle of a message" if got else "closed")
        got += k
    return buf


def recv_message(
    sock: socket.socket, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> tuple[dict, list[bytearray]]:
    (n,) = HEADER.unpack(_recv_exact(sock, HEADER.size))
    if n > MAX_HEADER_BYTES:
        raise ProtocolError(f"message header of {n} bytes (limit {MAX_HEADER_BYTES})")
    try:
        header = json.loads(_recv_exact(sock, n).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProtocolError(f"message header is not JSON: {e}") from None
    if not isinstance(header, dict) or not isinstance(header.get("op"), str):
        raise ProtocolError("message header is not an object with an 'op'")
    sizes = header.get("buffers", [])
    if not isinstance(sizes, list) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise ProtocolError("message buffer sizes are malformed")
    if sum(sizes) > max_bytes:
        raise ProtocolError(f"message of {sum(sizes)} bytes (limit {max_bytes})")
    return header, [_recv_exact(sock, s) if s else bytearray() for s in sizes]


# -- values ---------------------------------------------------------------------------


def _tensor_bytes(t: torch.Tensor) -> bytes:
    if t.numel() == 0:
        return b""
    # A fresh buffer with stride 1: `.contiguous()` keeps the 0 stride of an expanded
    # tensor of one element (torch ignores strides of size-1 dims), and viewing that as
    # bytes fails.
    flat = torch.empty(t.numel(), dtype=t.dtype).copy_(t.detach().to("cpu").reshape(-1))
    return flat.view(torch.uint8).numpy().tobytes()


def _dtype_name(d: torch.dtype) -> str:
    return str(d).removeprefix("torch.")


class Encoder:
    """Turns a value into a JSON tree plus buffers; see the module docstring."""

    def __init__(self, export=None):
        self.buffers: list[bytes] = []
        self.export = export  # obj -> {"$": "remote"|"back", ...}, or raises TypeError
        self.sent: list = []  # tensors and generators, in the order the receiver decodes them

    def _buffer(self, data: bytes) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def encode(self, obj, depth: int = 0):
        if depth > MAX_DEPTH:
            raise TypeError(f"value nested deeper than {MAX_DEPTH} levels")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and type(obj) is not bool:
            return int(obj)
        if isinstance(obj, float):
            return float(obj)
        if isinstance(obj, torch.Tensor):
            t = obj
            if t.is_sparse or t.layout != torch.strided:
                raise TypeError("cannot send a sparse tensor")
            self.sent.append(obj)
            return {
                "$": "tensor",
                "dtype": _dtype_name(t.dtype),
                "shape": list(t.shape),
                "buf": self._buffer(_tensor_bytes(t)),
                "rg": bool(t.requires_grad),
                "device": t.device.type,
            }
        if isinstance(obj, torch.Generator):
            self.sent.append(obj)
            state = obj.get_state()
            return {
                "$": "generator",
                "device": obj.device.type,
                "buf": self._buffer(_tensor_bytes(state)),
            }
        if isinstance(obj, torch.dtype):
            return {"$": "dtype", "name": _dtype_name(obj)}
        if isinstance(obj, torch.device):
            return {"$": "device", "v": str(obj)}
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind not in NUMPY_KINDS:
                raise TypeError(f"cannot send a numpy array of dtype {obj.dtype}")
            return {
                "$": "ndarray",
                "dtype": obj.dtype.str,
                "shape": list(obj.shape),
                "buf": self._buffer(np.ascontiguousarray(obj).tobytes()),
            }
        if isinstance(obj, np.generic):
            if obj.dtype.kind not in NUMPY_KINDS:
                raise TypeError(f"cannot send a numpy scalar of dtype {obj.dtype}")
            return {"$": "npscalar", "dtype": obj.dtype.str, "buf": self._buffer(obj.tobytes())}
        if isinstance(obj, (bytes, bytearray)):
            return {"$": "bytes", "buf": self._buffer(bytes(obj))}
        if isinstance(obj, tuple):  # torch.Size and named tuples become plain tuples
            return {"$": "tuple", "v": [self.encode(x, depth + 1) for x in obj]}
        if isinstance(obj, list):
            return {"$": "list", "v": [self.encode(x, depth + 1) for x in obj]}
        if isinstance(obj, dict):
            items = {}
            for k, v in obj.items():
                if not isinstance(k, str):
                    raise TypeError(f"cannot send a dict with a key of type {type(k).__name__}")
                items[k] = self.encode(v, depth + 1)
            return {"$": "dict", "v": items}
        if isinstance(obj, slice):
            return {
                "$": "slice",
                "v": [self.encode(x, depth + 1) for x in (obj.start, obj.stop, obj.step)],
            }
        if obj is Ellipsis:
            return {"$": "ellipsis"}
        if self.export is not None:
            return self.export(obj)
        raise TypeError(
            f"cannot send an object of type {type(obj).__module__}.{type(obj).__qualname__}"
        )


class Decoder:
    """Rebuilds values from a JSON tree and buffers; `resolve` handles references."""

    def __init__(self, buffers, resolve=None, device: str | None = None):
        self.buffers = buffers
        self.resolve = resolve  # (node) -> object, for "remote" and "back" tags
        self.device = device  # place tensors here ("cpu"/"cuda"); None: as sent, if available
        # tensors with their version counter (bumped by every in-place change) and
        # generators with their state, as they arrived
        self.received: list = []
        self.grad_leaves: list[torch.Tensor] = []  # tensors that arrived with requires_grad

    def _buf(self, node) -> bytearray:
        i = node.get("buf")
        if not isinstance(i, int) or not 0 <= i < len(self.buffers):
            raise ProtocolError("a value refers to a buffer that was not sent")
        return self.buffers[i]

    def _device(self, sent: str) -> str:
        want = self.device or sent
        if want == "cuda" and not torch.cuda.is_available():
            return "cpu"
        return want if want in ("cpu", "cuda") else "cpu"

    def decode(self, node, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ProtocolError("value nested too deeply")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict):
            raise ProtocolError(f"malformed value of JSON type {type(node).__name__}")
        tag = node.get("$")
        try:
            if tag == "list":
                return [self.decode(x, depth + 1) for x in node["v"]]
            if tag == "tuple":
                return tuple(self.decode(x, depth + 1) for x in node["v"])
            if tag == "dict":
                return {str(k): self.decode(v, depth + 1) for k, v in node["v"].items()}
            if tag == "tensor":
                return self._tensor(node)
            if tag == "generator":
                data = self._buf(node)
                g = torch.Generator(device=self._device(node.get("device", "cpu")))
                g.set_state(torch.frombuffer(bytearray(data), dtype=torch.uint8).clone())
                self.received.append((g, bytes(data)))
                return g
            if tag == "dtype":
                d = _TORCH_DTYPES.get(node["name"])
                if d is None:
                    raise ProtocolError(f"unknown dtype {node['name']!r}")
                return d
            if tag == "device":
                return torch.device(str(node["v"]))
            if tag == "ndarray":
                dt = np.dtype(str(node["dtype"]))
                if dt.kind not in NUMPY_KINDS:
                    raise ProtocolError(f"numpy dtype {dt} is not allowed")
                return np.frombuffer(bytes(self._buf(node)), dtype=dt).reshape(node["shape"]).copy()
            if tag == "npscalar":
                dt = np.dtype(str(node["dtype"]))
                if dt.kind not in NUMPY_KINDS:
                    raise ProtocolError(f"numpy dtype {dt} is not allowed")
                return np.frombuffer(bytes(self._buf(node)), dtype=dt)[0]
            if tag == "bytes":
                return bytes(self._buf(node))
            if tag == "slice":
                return slice(*(self.decode(x, depth + 1) for x in node["v"]))
            if tag == "ellipsis":
                return Ellipsis
            if tag in ("remote", "back", "global") and self.resolve is not None:
                return self.resolve(node)
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise ProtocolError(f"malformed {tag} value: {e}") from None
        raise ProtocolError(f"unknown value tag {tag!r}")

    def _tensor(self, node) -> torch.Tensor:
        dtype = _TORCH_DTYPES.get(node["dtype"])
        if dtype is None:
            raise ProtocolError(f"unknown dtype {node['dtype']!r}")
        shape = [int(s) for s in node["shape"]]
        data = self._buf(node)
        numel = 1
        for s in shape:
            if s < 0:
                raise ProtocolError("negative tensor dimension")
            numel *= s
        itemsize = torch.empty((), dtype=dtype).element_size()
        if len(data) != numel * itemsize:
            raise ProtocolError(f"tensor of shape {shape} and dtype {dtype} with {len(data)} bytes")
        if numel == 0:
            t = torch.empty(shape, dtype=dtype)
        else:
            t = torch.frombuffer(bytearray(data), dtype=torch.uint8).view(dtype).reshape(shape)
        device = self._device(node.get("device", "cpu"))
        if device != "cpu":
            t = t.to(device)
        if node.get("rg") and (t.is_floating_point() or t.is_complex()):
            t.requires_grad_(True)
            self.grad_leaves.append(t)
        self.received.append((t, t._version))
        return t

    def changes(self, encoder: Encoder) -> list:
        """[[index, encoded value], ...] for every received tensor or generator changed since."""
        out = []
        for i, (obj, before) in enumerate(self.received):
            if isinstance(obj, torch.Tensor):
                if obj._version != before:
                    out.append([i, encoder.encode(obj.detach())])
            elif _tensor_bytes(obj.get_state()) != before:
                out.append([i, encoder.encode(obj)])
        return out


def apply_changes(sent: list, changes, decoder: Decoder) -> None:
    """Mirror the receiver's in-place changes onto the objects that were sent."""
    if not isinstance(changes, list):
        raise ProtocolError("changes must be a list")
    for item in changes:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], int)):
            raise ProtocolError("malformed change entry")
        i, node = item
        if not 0 <= i < len(sent):
            raise ProtocolError("a change refers to an object that was not sent")
        target, new = sent[i], decoder.decode(node)
        if isinstance(target, torch.Generator):
            if not isinstance(new, torch.Generator):
                raise ProtocolError("a generator came back as something else")
            target.set_state(new.get_state())
        elif isinstance(new, torch.Tensor) and new.shape == target.shape:
            with torch.no_grad():
                target.copy_(new.to(target.dtype))
        elif isinstance(new, torch.Tensor):
            raise ProtocolError("a tensor came back with another shape")


def encode_value(value, export=None) -> tuple[object, list[bytes]]:
    enc = Encoder(export)
    return enc.encode(value), enc.buffers


def decode_value(tree, buffers, resolve=None):
    return Decoder(buffers, resolve).decode(tree)
