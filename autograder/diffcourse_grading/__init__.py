"""Grading plugin for Otter Grader 7: a per-cell time limit and a tamper scan.

Shipped inside every autograder zip (at the zip's root, so that it lands in
/autograder/source, the folder Gradescope's run_otter.py runs from and which
is therefore on the otter process's sys.path). Standard library only: it must
import in Otter's grading environment without installing anything.

Configured in otter_config.json as
    {"plugins": [{"diffcourse_grading.GradingGuard": {"cell_timeout": 120}}]}
"""

from diffcourse_grading.plugin import GradingGuard
from diffcourse_grading.tamper import Finding, scan_notebook, scan_source

__all__ = ["Finding", "GradingGuard", "scan_notebook", "scan_source"]
