"""The grading runner's static tamper scan (a second signal for review, never a score)."""

from __future__ import annotations

import pytest
from diffcourse_grading import scan_source


def reasons(*cells: str) -> list[str]:
    return [f.reason for f in scan_source(list(cells))]


@pytest.mark.parametrize(
    "code, expected",
    [
        ("import torch\ntorch.allclose = lambda *a, **k: True", "torch.allclose"),
        ("import numpy as np\nnp.testing.assert_allclose = print", "np.testing.assert_allclose"),
        ("from otter.execute import Checker\nChecker.check = None", "Checker.check"),
        ("import otter\nsetattr(otter, 'Notebook', object)", "setattr"),
        ("import sys\nsys.modules['torch'] = object()", "sys.modules"),
        ("import sys\nsys.modules.update({'torch': None})", "sys.modules"),
        ("import builtins\nbuiltins.abs = lambda x: 0", "builtins"),
        ("__builtins__.abs = lambda x: 0", "__builtins__"),
        ("import torch\ndel torch.allclose", "deletes"),
        ("exec('x = 1')", "exec"),
        ("import signal\nsignal.alarm(0)", "signal"),
        ("get_ipython().events.unregister('pre_run_cell', f)", "events"),
    ],
)
def test_tampering_is_flagged(code, expected):
    found = reasons(code)
    assert found, f"not flagged: {code}"
    assert any(expected in r for r in found), found


def test_imports_in_one_cell_count_in_later_cells():
    findings = scan_source(["import torch", "x = 1", "torch.allclose = max"])
    assert [(f.cell, f.line) for f in findings] == [(2, 1)]


@pytest.mark.parametrize(
    "code",
    [
        "import torch\nx = torch.zeros(3)\nx[0] = 1.0",
        "import torch\nmodel = torch.nn.Linear(2, 2)\nmodel.weight.data = torch.ones(2, 2)",
        "import matplotlib.pyplot as plt\nplt.rcParams['figure.figsize'] = (4, 3)",
        "import torch\ntorch.backends.cudnn.benchmark = True",
        "class A:\n    def __init__(self):\n        self.torch = 1",
        "%matplotlib inline\nimport numpy as np\nnp.random.seed(0)",
        "!pip install torch\nimport sys\nprint(sys.version)",
        "import otter\ngrader = otter.Notebook('ps1.ipynb')\ngrader.check('q1')",
        "def f(x:\n    pass",  # a syntax error cannot run, so it cannot tamper
    ],
)
def test_ordinary_code_is_not_flagged(code):
    assert reasons(code) == []
