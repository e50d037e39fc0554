"""Read a class's submissions: a Gradescope "Export Submissions" zip or folder, or plain files.

Gradescope's export holds `submission_metadata.yml` (one entry per submission
folder: `:submitters:` with `:name:`, `:sid:`, `:email:`, plus `:created_at:` and
`:score:`) and one folder per submission, often under one top-level folder. A
plain folder holds one notebook, Otter export zip or folder per submission; its
name stands in for the SID. Every folder and file found becomes a submission,
also one the metadata does not list, and every metadata entry becomes one, also
one whose folder is missing (it is then graded as empty): nothing is dropped.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

METADATA = "submission_metadata.yml"
SUBMISSION_SUFFIXES = {".ipynb", ".zip"}


class SubmissionsError(ValueError):
    """The submissions given cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class Submitter:
    name: str
    sid: str
    email: str


@dataclass
class Submission:
    key: str  # unique, safe as a folder name: the export's folder name or the file's stem
    path: Path | None  # file or folder to grade; None when the export lists it without files
    submitters: list[Submitter] = field(default_factory=list)
    created_at: str | None = None
    gradescope_score: float | None = None

    @property
    def sids(self) -> str:
        return ";".join(s.sid for s in self.submitters) or self.key


def _safe_key(name: str) -> str:
    key = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")
    return key or "submission"


def _export_root(folder: Path) -> Path | None:
    """The folder holding submission_metadata.yml: `folder` or its one top-level subfolder."""
    if (folder / METADATA).is_file():
        return folder
    found = [p.parent for p in folder.glob(f"*/{METADATA}")]
    if len(found) > 1:
        raise SubmissionsError(f"{folder}: more than one {METADATA} ({len(found)} found)")
    return found[0] if found else None


def _submitter(entry, where: str) -> Submitter:
    if not isinstance(entry, dict):
        raise SubmissionsError(f"{where}: a submitter must be a mapping, not {entry!r}")
    get = lambda k: "" if entry.get(k) is None else str(entry.get(k))  # noqa: E731
    return Submitter(name=get(":name"), sid=get(":sid"), email=get(":email"))


def read_export(root: Path) -> list[Submission]:
    """Submissions of an unpacked Gradescope export (the folder holding the metadata)."""
    meta_path = root / METADATA
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise SubmissionsError(f"{meta_path}: not valid YAML: {e}") from e
    if not isinstance(meta, dict):
        raise SubmissionsError(f"{meta_path}: expected a mapping of submission folders")
    subs = []
    for folder, entry in meta.items():
        where = f"{meta_path}: {folder}"
        if not isinstance(entry, dict):
            raise SubmissionsError(f"{where}: expected a mapping with :submitters:")
        people = entry.get(":submitters") or []
        if not isinstance(people, list):
            raise SubmissionsError(f"{where}: :submitters: must be a list")
        path = root / str(folder)
        score = entry.get(":score")
        subs.append(
            Submission(
                key=_safe_key(str(folder)),
                path=path if path.is_dir() else None,
                submitters=[_submitter(p, where) for p in people],
                created_at=None if entry.get(":created_at") is None else str(entry[":created_at"]),
                gradescope_score=None if score is None else float(score),
            )
        )
    listed = {str(f) for f in meta}
    for extra in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in listed):
        subs.append(Submission(key=_safe_key(extra.name), path=extra))
    return subs


def read_folder(folder: Path) -> list[Submission]:
    """One submission per notebook, zip or subfolder of a plain folder."""
    subs = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or p.name == "__MACOSX":
            continue
        if p.is_dir() or p.suffix.lower() in SUBMISSION_SUFFIXES:
            key = p.name if p.is_dir() else p.stem
            subs.append(Submission(key=_safe_key(key), path=p))
        else:
            raise SubmissionsError(
                f"{p}: not a submission (expected a .ipynb, an Otter export .zip or a folder)"
            )
    return subs


def load_submissions(source: Path, unpack_to: Path) -> list[Submission]:
    """The submissions in `source` (export zip, export folder or plain folder), keys unique."""
    source = Path(source)
    if not source.exists():
        raise SubmissionsError(f"{source}: no such file or folder")
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise SubmissionsError(f"{source}: not a zip (give an export zip or a folder)")
        with zipfile.ZipFile(source) as zf:
            if not any(Path(n).name == METADATA for n in zf.namelist()):
                raise SubmissionsError(
                    f"{source}: no {METADATA} inside: not a Gradescope 'Export Submissions' "
                    "zip (put single submissions in a folder and pass the folder)"
                )
            if unpack_to.exists():
                shutil.rmtree(unpack_to)
            zf.extractall(unpack_to)  # zipfile drops absolute paths and '..' components
        source = unpack_to
    root = _export_root(source)
    subs = read_export(root) if root else read_folder(source)
    if not subs:
        raise SubmissionsError(f"{source}: no submissions found")
    seen: dict[str, int] = {}
    for s in subs:  # two files "a.ipynb" and "a.zip" would share a key
        n = seen.get(s.key, 0)
        seen[s.key] = n + 1
        if n:
            s.key = f"{s.key}-{n + 1}"
    return subs
