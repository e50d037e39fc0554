"""The cells every problem set shares, written by the release from one source.

Three notebooks that each told Colab users a different set-up procedure is what
this module prevents: the release puts the same set-up cell before the Otter init
cell and the same "Submitting" section at the end of every notebook, filled in
from course.yml, so they cannot drift apart and are tested once.

- The set-up cell does nothing on a laptop (the student installed
  `requirements.txt` from the zip). On Google Colab it downloads the set's
  student zip from the published site, unpacks it next to the notebook (support
  files, the vendored library, the public tests Otter reads from files there)
  and pip-installs `requirements-colab.txt`: the pinned CPU packages, without
  Jupyter, which Colab provides.
- The Submitting section says what to upload where, and its export cell makes
  the zip on a laptop; on Colab, where Otter's export does not work, it says how
  to download the notebook instead.
"""

from __future__ import annotations

from diffcourse_staff.course import Assignment, Course
from diffcourse_staff.release.authoring import notebook_name
from diffcourse_staff.release.errors import ReleaseError

SETUP_MARKER = "# Set-up: run this cell first."
SUBMIT_MARKER = "# Submitting: run this cell last."
COLAB_REQUIREMENTS = "requirements-colab.txt"


def site_url(course: Course, aid: str) -> str:
    """The published site's base URL (course.yml, course.links.site), ending with '/'."""
    url = (course.links or {}).get("site", "").strip()
    if not url.startswith(("https://", "http://")):
        raise ReleaseError(
            aid,
            "course.yml has no course.links.site (the published site's URL, such as "
            "https://diff480.example.edu/): the Colab set-up cell downloads the student zip "
            "from it",
        )
    return url if url.endswith("/") else url + "/"


def student_zip_url(course: Course, assignment: Assignment) -> str:
    from diffcourse_staff.site.pages import download_uri

    return site_url(course, assignment.id) + download_uri(assignment.id)


def setup_cell_source(course: Course, assignment: Assignment) -> str:
    """The set-up code cell, identical in every notebook but for the zip's URL and name."""
    notebook = notebook_name(assignment)
    return f'''{SETUP_MARKER} On Google Colab it downloads this problem set's files from
# the course site and installs its packages; on your own computer it does nothing (you
# installed requirements.txt from the zip).
import sys

if "google.colab" in sys.modules:
    import io
    import os
    import subprocess
    import urllib.request
    import zipfile

    STUDENT_ZIP = "{student_zip_url(course, assignment)}"
    if not os.path.isdir("tests"):
        with urllib.request.urlopen(STUDENT_ZIP) as response:
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
        for member in archive.infolist():
            name = member.filename.split("/", 1)[-1]  # the zip keeps its files in a folder
            if member.is_dir() or not name or name == "{notebook}":
                continue
            os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
            with open(name, "wb") as f:
                f.write(archive.read(member))
        print(f"Downloaded the files of {{STUDENT_ZIP.rsplit('/', 1)[-1]}}.")
    install = [sys.executable, "-m", "pip", "install", "-q", "-r", "{COLAB_REQUIREMENTS}"]
    subprocess.run(install, check=True)'''


def submitting_markdown(course: Course, assignment: Assignment) -> str:
    notebook = notebook_name(assignment)
    rules = " ".join(
        course.policy_text(name) for name in ("collaboration", "ai_use") if name in course.policies
    )
    return f"""## Submitting

Restart the kernel and run every cell from the top (*Kernel > Restart Kernel and Run All
Cells*; on Colab *Runtime > Restart session and run all*), check that every figure appears,
then submit to both Gradescope assignments:

1. **{assignment.title} (code)**: the notebook. On your computer, run the cell below and
   upload the zip it makes (or `{notebook}` itself). On Colab, download the notebook
   (*File > Download > Download .ipynb*) and upload that file. `grader.check` ran only the
   public tests; the hidden tests run on Gradescope.
2. **{assignment.title} (written)**: a PDF of the notebook with your written answers and
   figures (browser *File > Print > Save as PDF*, on a laptop and on Colab alike). Mark the
   pages of each written question when you upload it.

You can submit as often as you like; the last submission counts, and its time decides any
late days.

**Collaboration and AI use.** {rules}"""


def submitting_code_source() -> str:
    return f"""{SUBMIT_MARKER} On your computer it makes the zip to upload.
import sys

if "google.colab" in sys.modules:
    print("On Colab: File > Download > Download .ipynb, then upload that file to Gradescope.")
else:
    grader.export(pdf=False, run_tests=False)"""
