"""Course-wide Otter settings merged on top of each notebook's ASSIGNMENT CONFIG.

A source notebook holds only what is specific to it (name, files, test
tweaks). Everything the course decides once lives here: the Gradescope
requirements with CPU torch, hidden stdout, the Python version, the export
cell without a PDF (written answers are printed to PDF by the browser and
submitted to a separate Gradescope assignment), and the configuration of the
grading runner (autograder/diffcourse_grading) written into each zip: its
limits from course.yml and the order of the questions.
"""

from __future__ import annotations

import copy
from pathlib import Path

from diffcourse_staff.course import REPO_ROOT, Assignment

PLUGIN_PACKAGE = "diffcourse_grading"  # the grading runner, shipped at the zip's root
PLUGIN_DIR = REPO_ROOT / "autograder" / PLUGIN_PACKAGE
GRADING_CONFIG = "grading_config.json"  # the runner's configuration, at the zip's root
# The runner stops grading after this long, whatever the submission does, and still
# writes results.json: well inside Gradescope's default 10-minute timeout.
RUNNER_TOTAL_TIMEOUT_S = 420
# Gradescope runs this script; it runs the grading runner in Gradescope's layout
# (the Miniforge environment that Otter's setup.sh builds is kept).
RUN_AUTOGRADER = """#!/bin/bash
# Written by the course's release: grade with the isolated grading runner.
export PATH=/root/miniforge3/bin:$PATH
eval "$(mamba shell hook --shell bash)"
mamba activate otter-env
cd /autograder/source
export PYTHONPATH=/autograder/source
python -m diffcourse_grading.run --source /autograder/source \\
    --submission /autograder/submission --results /autograder/results/results.json
"""
STUDENT_REQUIREMENTS = REPO_ROOT / "requirements" / "student" / "requirements.txt"
COLAB_REQUIREMENTS = REPO_ROOT / "requirements" / "student" / "requirements-colab.txt"
GRADESCOPE_REQUIREMENTS = REPO_ROOT / "requirements" / "gradescope.txt"
TORCH_VERSION = "2.13.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# The Python of the staff venv, on which the reference solutions are graded.
PYTHON_VERSION = "3.11"

# Keys the pipeline sets for every assignment; a notebook must not set them.
OWNED_KEYS = {
    "requirements",
    "overwrite_requirements",
    "environment",
    "plugins",
    "init_cell",
    "check_all_cell",
    "export_cell",
    "run_tests",
    "solutions_pdf",
    "template_pdf",
    "runs_on",
}
OWNED_GENERATE_KEYS = {"plugins", "show_stdout", "show_hidden", "pdf", "token", "assignment_name"}


def merged_config(source_config: dict, assignment: Assignment, files: list[str]) -> dict:
    """The ASSIGNMENT CONFIG that Otter sees: the notebook's keys plus the course defaults.

    `files` is the final list of support files (the notebook's plus the vendored
    `diffcourse` folder), relative to the notebook.
    """
    cfg = copy.deepcopy(source_config)
    cfg["name"] = assignment.id
    cfg["files"] = list(files)
    cfg["requirements"] = "requirements.txt"  # requirements/gradescope.txt, copied by the build
    cfg["overwrite_requirements"] = False  # keep Otter's own otter-grader[grading,plugins] line
    cfg["init_cell"] = False  # the notebook has its own, after the Colab set-up cell
    cfg["check_all_cell"] = False
    cfg["run_tests"] = False  # the reference gate grades it through the built zip instead
    # The release appends its own Submitting section and export cell (student_cells.py):
    # Otter's export does not work on Colab, and its cell would be a second section.
    cfg["export_cell"] = False
    # Public tests as files in the student folder: Otter on Colab reads tests only from
    # ./tests (the notebook's metadata is refused there). Hidden tests stay in the zip.
    tests = cfg.get("tests")
    cfg["tests"] = {**(tests if isinstance(tests, dict) else {}), "files": True}
    cfg["python_version"] = str(cfg.get("python_version", PYTHON_VERSION))
    generate = cfg.get("generate")
    generate = dict(generate) if isinstance(generate, dict) else {}
    generate.update(
        {
            "show_stdout": False,  # a submission could print the hidden tests to stdout
            # Hidden-test results reach students once the grades are published on
            # Gradescope (visibility "after_published"), as the assignment page says.
            "show_hidden": True,
            "pdf": False,
            "plugins": [],  # grading is the runner's (grading_config.json), not Otter's
        }
    )
    cfg["generate"] = generate
    return cfg


def grading_config(assignment: Assignment, questions: list[str]) -> dict:
    """The grading runner's configuration for one assignment (grading_config.json)."""
    return {
        "assignment": assignment.id,
        "questions": list(questions),
        "limits": {
            "cell_timeout": assignment.cell_timeout,
            "call_timeout": assignment.call_timeout,
            "question_timeout": assignment.question_timeout,
            "memory_mb": assignment.memory_mb,
            "total_timeout": RUNNER_TOTAL_TIMEOUT_S,
        },
    }


def plugin_files() -> list[Path]:
    """The grading runner's source files, shipped at the root of every autograder zip."""
    return sorted(p for p in PLUGIN_DIR.rglob("*.py") if "__pycache__" not in p.parts)
