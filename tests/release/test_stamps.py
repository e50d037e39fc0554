"""The release's stamps: a build is current only for the same inputs key and untouched outputs."""

from __future__ import annotations

from diffcourse_staff.release.stamps import Hasher, StampFile


def _key(notebook) -> str:
    return Hasher().path("notebook", notebook).text("otter", "6.1.0").hexdigest()


def test_a_changed_input_or_a_touched_output_makes_the_build_stale(tmp_path):
    notebook = tmp_path / "ps.ipynb"
    notebook.write_text("{}")
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "ps-student.zip").write_bytes(b"zip")
    stamps = StampFile(tmp_path / "stamps.json")
    key = _key(notebook)
    assert not stamps.build_current(key, dist)  # never built
    stamps.record_build(key, dist)
    assert StampFile(tmp_path / "stamps.json").build_current(key, dist)  # read back from disk

    notebook.write_text('{"cells": []}')
    assert _key(notebook) != key
    assert not stamps.build_current(_key(notebook), dist)

    (dist / "ps-student.zip").write_bytes(b"edited")
    assert not stamps.build_current(key, dist)
    stamps.refresh_outputs(dist)
    assert stamps.build_current(key, dist)
    (dist / "ps-student.zip").unlink()
    assert not stamps.build_current(key, dist)


def test_gates_are_stamped_with_the_key_they_passed_for(tmp_path):
    stamps = StampFile(tmp_path / "stamps.json")
    stamps.record_gate("leaks", "k1")
    assert StampFile(tmp_path / "stamps.json").gate_passed("leaks", "k1")
    assert not stamps.gate_passed("leaks", "k2")
    assert not stamps.gate_passed("reference", "k1")


def test_a_missing_input_and_a_labelled_input_count():
    assert Hasher().path("x", "nowhere/at/all").hexdigest() != Hasher().hexdigest()
    # The label is part of the key: the same bytes under another name are another input.
    assert Hasher().text("a", "1").hexdigest() != Hasher().text("b", "1").hexdigest()
    assert Hasher().text("a", "1b").hexdigest() != Hasher().text("a1", "b").hexdigest()
