"""Calls across the channel: callbacks, nested calls, autograd both ways, refusals.

The "worker" here is a forked copy of the test process serving one channel, so
these tests are quick; the real worker (sandbox, limits) is tested in
test_runner.py.
"""

from __future__ import annotations

import os
import socket
import time

import pytest
import torch
from diffcourse_grading.boundary import getattr_allowed, may_export
from diffcourse_grading.rpc import Endpoint

# Functions "the student wrote", served by the forked worker.


def student_apply(model, x):
    return model(x, torch.zeros(x.shape[0], dtype=torch.long))


def student_loss(model, x):  # backpropagates through a grader model it was given
    return ((model(x) - 1) ** 2).mean()


def student_train(model, opt, x):
    loss = ((model(x) - 1) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def student_grad_through(fn, x):  # needs the gradient of a grader function of its input
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(x).sum(), x)
    return g


def student_render(grid):
    return 1 - torch.prod(1 - grid, dim=-1)


def student_scale_(x):
    x.mul_(3)


def student_draw(gen):
    return torch.rand(3, generator=gen)


def student_nested(f, x):
    return f(lambda y: y * 10, x)  # hands its own lambda to the grader


def student_raise(x):
    raise ValueError(f"bad input {x}")


def student_peek(obj):
    return obj._parameters  # refused locally: underscore names are never asked for


def student_register(model):
    return model.register_forward_hook


def student_view(view, x):
    return view.inverse(view.apply(x))


STUDENT = {k: v for k, v in globals().items() if k.startswith("student_")}


@pytest.fixture
def channel():
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # the "worker"
        code = 0
        try:
            a.close()
            Endpoint(b, call_global=lambda n, args, kw, extra: STUDENT[n](*args, **kw)).serve()
        except BaseException:  # noqa: BLE001
            code = 1
        os._exit(code)
    b.close()
    flags: list[str] = []
    ep = Endpoint(a, may_export=may_export, getattr_allowed=getattr_allowed, on_flag=flags.append)
    ep.request_timeout = 60

    def call(name, *args, **kwargs):
        return ep.call({"$": "name", "name": name}, args, kwargs)

    call.flags = flags
    yield call
    ep.close()
    os.waitpid(pid, 0)


def _exported(source: str) -> dict:
    """Objects defined as a test defines them (functions the grader may hand out)."""
    ns = {"__name__": "__grading_test__", "torch": torch}
    exec(source, ns)
    return ns


def test_a_callable_passed_in_runs_in_the_grader(channel):
    ns = _exported(
        "calls = []\n"
        "class Fake(torch.nn.Module):\n"
        "    def forward(self, x, t):\n"
        "        calls.append(t.clone())\n"
        "        return 2 * x\n"
    )
    out = channel("student_apply", ns["Fake"](), torch.ones(2, 3))
    assert torch.equal(out, torch.full((2, 3), 2.0))
    assert len(ns["calls"]) == 1 and ns["calls"][0].dtype == torch.int64  # recorded here


def test_backward_in_the_worker_reaches_the_graders_parameters(channel):
    lin = torch.nn.Linear(3, 1)
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    out = channel("student_loss", lin, x)
    assert out.requires_grad
    out.backward()  # backward here -> worker -> back here for the model's VJP
    ref = torch.nn.Linear(3, 1)
    ref.load_state_dict(lin.state_dict())
    ((ref(x) - 1) ** 2).mean().backward()
    assert torch.allclose(lin.weight.grad, ref.weight.grad)
    assert torch.allclose(lin.bias.grad, ref.bias.grad)


def test_a_training_step_with_the_graders_model_and_optimizer(channel):
    torch.manual_seed(0)
    lin = torch.nn.Linear(2, 1)
    before = lin.weight.detach().clone()
    opt = torch.optim.SGD(lin.parameters(), lr=0.5)
    x = torch.randn(8, 2, generator=torch.Generator().manual_seed(1))
    loss = channel("student_train", lin, opt, x)
    ref = torch.nn.Linear(2, 1)
    ref.weight.data, ref.bias.data = before.clone(), lin.bias.detach().clone()
    assert isinstance(loss, float)
    assert not torch.equal(lin.weight.detach(), before)  # the optimizer stepped, here


def test_gradient_of_a_grader_function_inside_the_worker(channel):
    ns = _exported("f = lambda x: torch.sin(x) * x")
    x = torch.linspace(-1, 1, 5, dtype=torch.float64)
    g = channel("student_grad_through", ns["f"], x)
    assert torch.allclose(g, torch.cos(x) * x + torch.sin(x))


def test_gradient_through_a_student_function_back_to_the_graders_input(channel):
    grid = torch.rand(2, 4, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
    out = channel("student_render", grid)
    assert out.requires_grad
    (g,) = torch.autograd.grad(out.sum(), grid)
    ref = grid.detach().clone().requires_grad_(True)
    (g_ref,) = torch.autograd.grad((1 - torch.prod(1 - ref, dim=-1)).sum(), ref)
    assert torch.allclose(g, g_ref)


def test_in_place_mutation_and_generator_state_come_back(channel):
    x = torch.ones(3)
    assert channel("student_scale_", x) is None
    assert torch.equal(x, torch.full((3,), 3.0))  # a test can see that its input was mutated
    g, ref = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    out = channel("student_draw", g)
    assert torch.equal(out, torch.rand(3, generator=ref))
    assert torch.equal(torch.rand(2, generator=g), torch.rand(2, generator=ref))


def test_nested_calls_both_ways(channel):
    ns = _exported("f = lambda g, x: g(x) + 1")  # the grader calls the worker's lambda
    assert torch.equal(channel("student_nested", ns["f"], torch.ones(2)), torch.full((2,), 11.0))


def test_exceptions_keep_their_builtin_type(channel):
    with pytest.raises(ValueError, match="bad input 3"):
        channel("student_raise", 3)


def test_private_attributes_and_hooks_of_grader_objects_are_out_of_reach(channel):
    with pytest.raises(AttributeError, match="not readable"):
        channel("student_peek", torch.nn.Linear(1, 1))
    with pytest.raises(AttributeError, match="not readable"):
        channel("student_register", torch.nn.Linear(1, 1))
    assert any("register_forward_hook" in f for f in channel.flags)  # flagged for review
    ns = _exported(  # a test's own object may well have a method called apply
        "class View:\n"
        "    def apply(self, x):\n        return x.flip(0)\n"
        "    def inverse(self, x):\n        return x.flip(0)\n"
    )
    assert torch.equal(channel("student_view", ns["View"](), torch.arange(3)), torch.arange(3))


def test_the_grader_never_hands_out_modules_classes_or_free_builtins(channel):
    for obj in (os, torch.nn.Linear, exec, open, os.system, print):
        with pytest.raises(TypeError, match="cannot send"):
            channel("student_apply", obj, torch.ones(1))
    assert not may_export(lambda x: x)  # defined outside a test or the reference
    # builtin types' methods read attributes by name ("{0.__globals__}".format(f))
    assert not may_export("{0.__globals__}".format) and not may_export({}.get)
    assert may_export(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1).step)


def test_callback_round_trip_overhead(channel):
    ns = _exported("f = lambda x: x")
    x = torch.ones(8)
    channel("student_grad_through", ns["f"], x)  # warm up
    t = time.perf_counter()
    for _ in range(20):
        channel("student_apply", _exported("m = lambda x, t: x")["m"], x)
    per_call = (time.perf_counter() - t) / 20
    assert per_call < 1.0  # generous: a loaded machine; bench/ prints the real figure
