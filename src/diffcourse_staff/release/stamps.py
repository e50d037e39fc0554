"""Content hashes that make `make release` incremental.

Each assignment's build is keyed by a hash of everything that can change its
outputs: the source notebook, its support files, the vendored modules and
release.yml, its course.yml entry, the release package and grading runner
sources, the requirement files and Otter's version (the key is made by
`diffcourse_staff.input_hash`, the scheme the site's figures use too). Each gate is
stamped with the same key once it passes. A stamp also records the hash of every output
file, so a deleted or edited dist/ file triggers a rebuild.
"""

from __future__ import annotations

import json
from pathlib import Path

# The hash scheme is shared with the site's figures; build.py takes Hasher from here.
from diffcourse_staff.input_hash import Hasher, tree_digests

__all__ = ["Hasher", "StampFile"]


class StampFile:
    """build/<id>/stamps.json: the inputs hash, the output hashes and the passed gates."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}

    def build_current(self, inputs: str, dist_dir: Path) -> bool:
        if self.data.get("inputs") != inputs:
            return False
        recorded = self.data.get("outputs") or {}
        return bool(recorded) and tree_digests(dist_dir) == recorded

    def record_build(self, inputs: str, dist_dir: Path) -> None:
        self.data = {"inputs": inputs, "outputs": tree_digests(dist_dir), "gates": {}}
        self.save()

    def refresh_outputs(self, dist_dir: Path) -> None:
        self.data["outputs"] = tree_digests(dist_dir)
        self.save()

    def gate_passed(self, gate: str, key: str) -> bool:
        return (self.data.get("gates") or {}).get(gate) == key

    def record_gate(self, gate: str, key: str) -> None:
        self.data.setdefault("gates", {})[gate] = key
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.data, indent=2, sort_keys=True), encoding="utf-8")
