"""The Otter plugin: arm a per-cell time limit and flag tampering.

Otter 7 has no time limit of its own: one infinite loop in a submission hangs
grading forever and no results.json is written. `before_execution` therefore
inserts a first cell that arms SIGALRM around every cell through IPython's
pre_run_cell / post_run_cell events. A cell that runs past the limit is
interrupted with CellTimeout (a BaseException, so `except Exception` in student
code does not swallow it); grading goes on with the next cell, and the
questions that depend on the interrupted cell fail, the others are graded.
The alarm is re-armed when it fires, so a second hang inside the same cell
(for example one hidden test after another in Otter's final check cell) is
interrupted as well. SIGALRM cannot interrupt a long C call until it returns.

The same hook scans the submission's code (diffcourse_grading.tamper); after
grading, a flagged submission gets 0 on every autograded question and a
'flagged for manual review' message in results.json.
"""

from __future__ import annotations

import nbformat

try:  # Otter is always there when the plugin runs; the import guard helps unit tests
    from otter.plugins import AbstractOtterPlugin
except ImportError:  # pragma: no cover
    AbstractOtterPlugin = object  # type: ignore[misc,assignment]

from diffcourse_grading.tamper import scan_notebook, scan_source

DEFAULT_CELL_TIMEOUT = 120
REVIEW_MESSAGE = (
    "This submission was flagged for manual review: its code changes the libraries, "
    "the interpreter or the grader that the tests rely on. The autograded score is 0 "
    "until a member of staff has reviewed it. Findings:\n"
)

TIMEOUT_CELL = '''\
# Inserted by the course's grading plugin: a time limit of {limit} s per cell.
def _diffcourse_arm_time_limit(limit={limit}):
    import signal

    class CellTimeout(BaseException):
        """A cell ran past the grader's per-cell time limit."""

    def on_alarm(signum, frame):
        signal.alarm(limit)  # re-arm: a later hang in the same cell is stopped too
        raise CellTimeout(
            f"this cell ran longer than the per-cell limit of {{limit}} s and was stopped"
        )

    def arm(*args):
        signal.alarm(limit)

    def disarm(*args):
        signal.alarm(0)

    signal.signal(signal.SIGALRM, on_alarm)
    events = get_ipython().events
    events.register("pre_run_cell", arm)
    events.register("post_run_cell", disarm)


_diffcourse_arm_time_limit()
del _diffcourse_arm_time_limit
'''


def timeout_cell_source(limit: int) -> str:
    """The code of the cell that arms the per-cell time limit."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"cell_timeout must be a whole number of seconds >= 1, got {limit!r}")
    return TIMEOUT_CELL.format(limit=limit)


class GradingGuard(AbstractOtterPlugin):
    """Per-cell time limit and tamper scan (see the module docstring)."""

    def __init__(self, submission_path, submission_metadata, plugin_config):
        self.submission_path = submission_path
        self.submission_metadata = submission_metadata
        self.plugin_config = plugin_config or {}
        self.cell_timeout = int(self.plugin_config.get("cell_timeout", DEFAULT_CELL_TIMEOUT))
        self.findings: list = []

    def before_execution(self, submission):
        if isinstance(submission, str):  # a .py submission
            self.findings = scan_source([submission])
            return timeout_cell_source(self.cell_timeout) + "\n" + submission
        self.findings = scan_notebook(submission)
        cell = nbformat.v4.new_code_cell(timeout_cell_source(self.cell_timeout))
        submission.cells.insert(0, cell)
        return submission

    def after_grading(self, results):
        data = {
            "cell_timeout": self.cell_timeout,
            "flagged": bool(self.findings),
            "findings": [str(f) for f in self.findings],
        }
        results.set_plugin_data("diffcourse_grading.GradingGuard", data)
        if not self.findings:
            return
        for name in list(results.results):
            results.update_score(name, 0)
        results.set_output(REVIEW_MESSAGE + "\n".join(f"- {f}" for f in self.findings))

    def generate_report(self):
        if not self.findings:
            return ""
        return "FLAGGED FOR MANUAL REVIEW:\n" + "\n".join(f"  {f}" for f in self.findings)
