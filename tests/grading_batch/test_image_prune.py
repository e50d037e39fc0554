"""A rebuild of the grading image leaves no old untagged image behind.

The pruning runs against real podman (in a storage folder of the test's own) on
tiny images imported from tarballs, so no image build is needed: seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile

import pytest

from diffcourse_staff.grading_batch import image
from diffcourse_staff.grading_batch.podman import podman_env

TAG = "localhost/diffcourse-grading-prune-test:cpu"


@pytest.fixture
def podman(tmp_path):
    if not shutil.which("podman"):
        pytest.skip("podman is not installed (make container-deps)")
    env = podman_env(tmp_path / "containers")

    def run(*args: str) -> str:
        done = subprocess.run(["podman", *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def make(name: str, content: str, label: bool = True) -> str:
        """Import a one-file image tagged `name` (with the grading label); its id."""
        payload = tmp_path / "payload.txt"
        payload.write_text(content)
        tar = tmp_path / f"{len(list(tmp_path.glob('*.tar')))}.tar"
        with tarfile.open(tar, "w") as t:
            t.add(payload, arcname="payload.txt")
        change = ["--change", f"LABEL={image.IMAGE_LABEL}=cpu"] if label else []
        return run("import", *change, str(tar), name).splitlines()[-1]

    def ids() -> set[str]:
        return set(run("images", "--all", "--no-trunc", "--format", "{{.ID}}").split())

    yield env, make, ids, run
    subprocess.run(["podman", "system", "reset", "--force"], env=env, capture_output=True)


def _full(short: str) -> str:
    return short if short.startswith("sha256:") else f"sha256:{short}"


def test_rebuild_removes_the_image_the_tag_named_before(podman):
    env, make, ids, run = podman
    stranger = make("localhost/someone-else:latest", "not ours", label=False)
    run("tag", stranger, "localhost/someone-else:old")
    run("rmi", "localhost/someone-else:latest")
    run("untag", stranger)  # an untagged image without our label: not ours to remove
    old_unlabelled = make(TAG, "built before the label existed", label=False)
    older = make(TAG, "build 1")  # now untagged: the label says it is an old grading image
    previous = image.image_id("podman", TAG, env)
    current = make(TAG, "build 2")
    assert previous and previous != current

    removed = image.remove_replaced("podman", previous, current, env)

    left = {_full(i) for i in ids()}
    assert _full(current) in left and _full(image.image_id("podman", TAG, env)) == _full(current)
    assert _full(previous) not in left and _full(older) not in left
    assert _full(stranger) in left  # untagged, but not ours
    assert _full(old_unlabelled) in left  # not ours by label, and not what the tag named
    assert {_full(r) for r in removed} >= {_full(previous), _full(older)}


def test_an_old_image_staff_tagged_elsewhere_is_kept(podman, capsys):
    env, make, ids, run = podman
    previous = make(TAG, "build of the first term")
    run("tag", previous, "localhost/diffcourse-grading:term-2026")
    current = make(TAG, "build 2")

    removed = image.remove_replaced("podman", previous, current, env)

    assert removed == []
    kept = image.image_id("podman", "localhost/diffcourse-grading:term-2026", env)
    assert _full(kept) == _full(previous)
    assert "kept the previous image" in capsys.readouterr().err


def test_build_removes_what_it_replaced(monkeypatch):
    """build_image asks the engine for the tag's image before and after, then prunes."""
    ids = iter(["sha256:old", "sha256:new"])
    calls: list = []
    monkeypatch.setattr(image, "detect_engine", lambda engine: "podman")
    monkeypatch.setattr(image, "host_pip_settings", lambda: {})
    monkeypatch.setattr(image, "run", lambda cmd, env=None, **kw: calls.append(cmd))
    monkeypatch.setattr(image, "image_id", lambda engine, name, env=None: next(ids))
    monkeypatch.setattr(
        image, "remove_replaced", lambda e, prev, cur, env=None: calls.append((prev, cur)) or []
    )
    assert image.build_image("cpu", "podman", base="localhost/base") == image.image_tag("cpu")
    assert calls[-1] == ("sha256:old", "sha256:new")
    assert calls[0][:2] == ["podman", "build"]
