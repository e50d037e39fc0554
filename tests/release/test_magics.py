"""One rule for IPython magics and shell escapes: the release's `strip_magics`.

The grading runner ships alone in the autograder zip and may import nothing of the
staff tooling, so its tamper scan keeps its own copy; this test keeps the two equal.
"""

from __future__ import annotations

import ast

import pytest
from diffcourse_grading import tamper

from diffcourse_staff.release.notebook import strip_magics

CELLS = [
    "%matplotlib inline\nimport numpy as np",
    "!pip install torch\n  !ls -la\nx = 1",
    "    %time f(x)\ny = 2 % 3",  # a modulo is Python, an indented magic is not
    "%%capture\nprint('hidden')",
    "a = 1\n\n\nb = 2\n",
    "s = '%d items' % 3\nt = '!important'",
    "",
]


@pytest.mark.parametrize("source", CELLS)
def test_the_runner_strips_magics_as_the_release_does(source):
    assert tamper._strip_magics(source) == strip_magics(source)


@pytest.mark.parametrize("source", CELLS)
def test_what_is_left_parses_and_keeps_line_numbers(source):
    stripped = strip_magics(source)
    ast.parse(stripped)
    assert len(stripped.splitlines()) == len(source.splitlines())
    for kept, line in zip(stripped.splitlines(), source.splitlines(), strict=True):
        assert kept in ("", line)
        assert (kept == "") == (line.lstrip().startswith(("%", "!")) or not line)
