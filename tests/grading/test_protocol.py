"""The plain-data wire format: what round-trips, what is refused, what is rejected."""

from __future__ import annotations

import json
import math
import socket
import struct

import numpy as np
import pytest
import torch
from diffcourse_grading.protocol import (
    Decoder,
    Encoder,
    ProtocolError,
    apply_changes,
    decode_value,
    encode_value,
    recv_message,
    send_message,
)


def roundtrip(value):
    a, b = socket.socketpair()
    tree, buffers = encode_value(value)
    send_message(a, {"op": "value", "v": tree}, buffers)
    header, bufs = recv_message(b)
    a.close()
    b.close()
    return decode_value(header["v"], bufs)


def same(x, y) -> bool:
    if isinstance(x, torch.Tensor):
        return (
            isinstance(y, torch.Tensor)
            and x.dtype == y.dtype
            and x.shape == y.shape
            and x.requires_grad == y.requires_grad
            and torch.equal(x.detach(), y.detach())
        )
    if isinstance(x, np.ndarray):
        return isinstance(y, np.ndarray) and x.dtype == y.dtype and np.array_equal(x, y)
    if isinstance(x, (list, tuple)):
        return type(x) is type(y) and len(x) == len(y) and all(map(same, x, y))
    if isinstance(x, dict):
        return isinstance(y, dict) and x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
    if isinstance(x, float) and math.isnan(x):
        return isinstance(y, float) and math.isnan(y)
    return type(x) is type(y) and x == y


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        -(2**70),
        1.5,
        float("nan"),
        float("inf"),
        "héllo",
        [1, "a", None],
        (1, (2.0, [3])),
        {"a": [1, 2], "b": {"c": (None,)}},
        torch.arange(12, dtype=torch.float32).reshape(3, 4),
        torch.tensor(3.5, dtype=torch.float64),  # 0-dimensional
        torch.empty(0, 5),
        torch.tensor([True, False]),
        torch.tensor([1, -2], dtype=torch.int64),
        torch.randn(2, 3, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16),
        torch.randn(2, 2).t(),  # not contiguous
        torch.tensor(3.0, dtype=torch.float64).expand(1, 1),  # stride 0, yet "contiguous"
        torch.zeros(1, 2).expand(4, 2),  # expanded (stride 0 on the batch axis)
        torch.ones(3, requires_grad=True),
        np.arange(6, dtype=np.int16).reshape(2, 3),
        np.float32(2.5),
        np.int64(-7),
        torch.float16,
        torch.device("cpu"),
        b"\x00\x01",
        torch.Size([2, 3]),
    ],
)
def test_plain_data_round_trips(value):
    back = roundtrip(value)
    expected = tuple(value) if isinstance(value, torch.Size) else value
    if isinstance(value, np.generic):
        assert back == value and back.dtype == value.dtype
    else:
        assert same(expected, back), (value, back)


def test_generator_state_round_trips():
    g = torch.Generator().manual_seed(123)
    torch.rand(5, generator=g)
    back = roundtrip(g)
    assert torch.equal(torch.rand(4, generator=back), torch.rand(4, generator=g))


class Custom:
    pass


@pytest.mark.parametrize(
    "value, name",
    [
        ({1, 2}, "builtins.set"),
        (Custom(), "Custom"),
        (lambda x: x, "function"),
        ({1: "a"}, "key of type int"),
        ([object()], "builtins.object"),
        (np.array(["a"], dtype=object), "dtype object"),
        (torch.eye(2).to_sparse(), "sparse"),
    ],
)
def test_anything_else_is_refused_naming_its_type(value, name):
    with pytest.raises(TypeError, match=name):
        encode_value(value)


def test_nesting_is_bounded():
    deep = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(TypeError, match="deeper"):
        encode_value(deep)


@pytest.mark.parametrize(
    "tree, buffers, match",
    [
        ({"$": "tensor", "dtype": "float32", "shape": [2], "buf": 0}, [bytearray(4)], "bytes"),
        ({"$": "tensor", "dtype": "float32", "shape": [1], "buf": 3}, [], "buffer"),
        ({"$": "tensor", "dtype": "evil", "shape": [1], "buf": 0}, [bytearray(4)], "dtype"),
        ({"$": "ndarray", "dtype": "|O", "shape": [1], "buf": 0}, [bytearray(8)], "allowed"),
        ({"$": "pickle", "v": "gASV"}, [], "unknown value tag"),
        ({"$": "back", "id": 1}, [], "unknown value tag"),  # no reference table: refused
        ([1, 2], [], "malformed"),
    ],
)
def test_forged_values_are_rejected(tree, buffers, match):
    with pytest.raises(ProtocolError, match=match):
        decode_value(tree, buffers)


def test_forged_frames_are_rejected():
    a, b = socket.socketpair()
    a.sendall(struct.pack("!I", 5) + b"nope!")
    with pytest.raises(ProtocolError, match="not JSON"):
        recv_message(b)
    header = json.dumps({"op": "x", "buffers": [10**12]}).encode()
    a.sendall(struct.pack("!I", len(header)) + header)
    with pytest.raises(ProtocolError, match="limit"):
        recv_message(b)
    a.sendall(struct.pack("!I", 10**9))
    with pytest.raises(ProtocolError, match="header of"):
        recv_message(b)


def test_in_place_changes_are_mirrored_onto_the_senders_objects():
    x, y, g = torch.zeros(3), torch.ones(2), torch.Generator().manual_seed(1)
    enc = Encoder()
    tree = enc.encode([x, y, g])
    dec = Decoder(enc.buffers)
    rx, ry, rg = dec.decode(tree)
    rx.add_(5)  # changed in place by the callee
    torch.rand(3, generator=rg)  # the callee drew numbers
    ry = ry + 1  # a new tensor: not a change of the argument
    back = Encoder()
    changes = dec.changes(back)
    assert [i for i, _ in changes] == [0, 2]
    apply_changes(enc.sent, changes, Decoder(back.buffers))
    assert torch.equal(x, torch.full((3,), 5.0)) and torch.equal(y, torch.ones(2))
    assert torch.equal(torch.rand(2, generator=g), torch.rand(2, generator=rg))
