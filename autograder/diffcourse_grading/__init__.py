"""The course's isolated grading runner, shipped at the root of every autograder zip.

    python -m diffcourse_grading.run --source SRC --submission SUB --results OUT.json

The submission's code runs in a sandboxed worker process (worker.py, started
and limited from outside by supervisor.py); the tests run in the grader and
reach the submission's functions through a plain-data call protocol
(protocol.py, rpc.py; testing.py runs Otter's test files). Standard library,
torch and numpy only (IPython in the worker): it must run in Gradescope's
environment as unpacked, with nothing installed. autograder/README.md has the
picture.
"""

from diffcourse_grading.tamper import Finding, scan_notebook, scan_source

__all__ = ["Finding", "scan_notebook", "scan_source"]
