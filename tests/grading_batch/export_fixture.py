"""A Gradescope "Export Submissions" zip in the real layout, with made-up students.

Layout as Gradescope writes it: one top-level folder holding
`submission_metadata.yml` (Ruby-symbol keys `:submitters:`, `:name:`, `:sid:`,
`:email:`, `:created_at:`, `:score:`, `:history:`) and one `submission_<id>/`
folder per submission with the files the student uploaded.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

METADATA = """\
submission_201:
  :submitters:
  - :name: Alex Example
    :sid: '9000001'
    :email: alex@example.edu
  - :name: Sam Example
    :sid: '9000002'
    :email: sam@example.edu
  :created_at: 2027-02-02 23:59:01.123456000 -05:00
  :score: 8.0
  :status: processed
  :history: []
submission_202:
  :submitters:
  - :name: Kim Example
    :sid: '9000003'
    :email: kim@example.edu
  :created_at: 2027-02-03 10:15:44.000000000 -05:00
  :score: 0.0
  :status: processed
  :history: []
submission_203:
  :submitters:
  - :name: Lee Example
    :sid: '9000004'
    :email: lee@example.edu
  :created_at: 2027-02-03 11:00:00.000000000 -05:00
  :score: 4.0
  :status: processed
  :history: []
"""

# Gradescope's Download Grades CSV for the same students (Lee's folder is missing in the export)
GRADES_CSV = """\
First Name,Last Name,SID,Email,Sections,Total Score,Max Points,Status,Submission ID,Submission Time,Lateness (H:M:S),View Count,Submission Count,1: q1 (4.0 pts),2: q2 (4.0 pts)
Alex,Example,9000001,alex@example.edu,,8.0,8.0,Graded,201,2027-02-02 23:59:01 -0500,0:00:00,1,1,4.0,4.0
Sam,Example,9000002,sam@example.edu,,8.0,8.0,Graded,201,2027-02-02 23:59:01 -0500,0:00:00,1,1,4.0,4.0
Kim,Example,9000003,kim@example.edu,,4.0,8.0,Graded,202,2027-02-03 10:15:44 -0500,10:15:44,1,1,0.0,4.0
Lee,Example,9000004,lee@example.edu,,4.0,8.0,Graded,203,2027-02-03 11:00:00 -0500,11:00:00,1,1,4.0,0.0
"""  # noqa: E501


def write_export(dest: Path, reference: Path, blank: Path) -> Path:
    """assignment_7777_export.zip: 201 = reference (a pair), 202 = blank, 203 = listed, no files."""
    path = dest / "assignment_7777_export.zip"
    root = "assignment_7777_export"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{root}/submission_metadata.yml", METADATA)
        zf.write(reference, f"{root}/submission_201/fx1.ipynb")
        zf.write(blank, f"{root}/submission_202/fx1.ipynb")
    return path
