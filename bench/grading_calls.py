"""Grading runner benchmark: the cost of a call into the worker and of a callback.

    .venv/bin/python bench/grading_calls.py [--callbacks 1000]

Starts a real (sandboxed) worker on a tiny notebook and prints: the worker's
start-up, the first call of a test case (a fork of the worker and a round trip),
a later call of the same case (the round trip alone), a callback from
student code to a function the test passed in (plain and with gradients, as a
fake model under backward), and the same loop run in one process for
comparison. On a busy shared machine the figures are several times higher:
read them next to `uptime`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "autograder"))

from diffcourse_grading.supervisor import Limits, Supervisor  # noqa: E402

NOTEBOOK = """
import torch

def identity(x):
    return x

def loop(model, x, n):
    for _ in range(n):
        x = model(x, torch.zeros(x.shape[0], dtype=torch.long))
    return x

def loop_backward(model, x, n):
    for _ in range(n):
        loss = model(x, torch.zeros(x.shape[0], dtype=torch.long)).square().mean()
        loss.backward()
    return loss.item()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--callbacks", type=int, default=1000)
    args = parser.parse_args()
    n = args.callbacks
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")
    sup = Supervisor([NOTEBOOK], None, Limits(call_timeout=600, question_timeout=600))
    t = time.perf_counter()
    sup.run_notebook(300)
    print(f"worker start and notebook: {time.perf_counter() - t:.2f} s ({sup.sandbox})")
    flags: list[str] = []
    test = {"__name__": "__grading_test__", "torch": torch}
    exec("model = lambda x, t: 0.5 * x\nlin = torch.nn.Linear(16, 16)\n", test)
    lin = test["lin"]
    wrapped = {"__name__": "__grading_test__", "lin": lin}
    exec("net = lambda x, t: lin(x)", wrapped)

    def call(name, *a):
        return sup.call(name, a, {}, {}, time.monotonic() + 600, flags)

    x = torch.randn(2000, 2)
    call("identity", x)
    sup.end_case()
    t = time.perf_counter()
    for _ in range(10):
        call("identity", x)
        sup.end_case()  # each test case gets its own fork
    per_call = (time.perf_counter() - t) / 10
    print(f"first call of a test case (fork + round trip, 2000x2 float32): {per_call * 1e3:.1f} ms")
    call("identity", x)
    t = time.perf_counter()
    for _ in range(10):
        call("identity", x)
    per_call = (time.perf_counter() - t) / 10
    print(f"a later call of the same test case (round trip): {per_call * 1e3:.1f} ms")
    sup.end_case()
    for label, name, model, inp in [
        ("callback, no gradient", "loop", test["model"], torch.randn(2000, 2)),
        ("callback + backward (nn.Module)", "loop_backward", wrapped["net"], torch.randn(64, 16)),
    ]:
        with torch.no_grad() if name == "loop" else torch.enable_grad():
            t = time.perf_counter()
            call(name, model, inp, n)
            per = (time.perf_counter() - t) / n
        local = {"torch": torch}
        exec(NOTEBOOK, local)
        t = time.perf_counter()
        local[name](model, inp, n)
        base = (time.perf_counter() - t) / n
        print(
            f"{label}: {per * 1e3:.2f} ms each through the runner, {base * 1e3:.3f} ms in-process"
        )
    sup.close()


if __name__ == "__main__":
    main()
