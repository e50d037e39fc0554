"""Staff tooling of the mini project (mini_projects/ at the repository root).

- `data`: the project files (rubric, ideas, papers) read and checked against the course file.
- `rubric`: the rubric as Markdown for the site and as text to paste into Gradescope.
- `ideas`: the project ideas as Markdown for the site.
- `papers`: the paper-presentation track: assign papers from ranked preferences.
- `starter`: copy a starter kit (`make project-starter`).
- `report`: build a report from Markdown to PDF (or HTML without a browser).
- `reproduce`: rerun a project's `make reproduce` and compare its numbers with the report's.

`python -m diffcourse_staff.projects --help` lists the commands. This package is staff
tooling: it is not part of the library wheel that students install.
"""

from __future__ import annotations

from diffcourse_staff.course import REPO_ROOT

PROJECTS_DIR = REPO_ROOT / "mini_projects"
