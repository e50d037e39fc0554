"""The starter kits and the worked example run end to end on a small budget."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from diffcourse_staff.projects.reproduce import check_project
from diffcourse_staff.projects.starter import copy_starter, tracks
from tests.projects.conftest import edit_yaml, run_make


def _import_project(folder):
    sys.path.insert(0, str(folder))
    try:
        import importlib

        sys.modules.pop("project", None)
        return importlib.import_module("project")
    finally:
        sys.path.remove(str(folder))


def _table(folder):
    sys.path.insert(0, str(folder))
    try:
        import results_table

        return results_table.read(folder / "report.md")
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("results_table", None)


def test_there_is_one_starter_per_track_and_a_copy_refuses_a_used_folder(tmp_path):
    assert tracks() == ["custom-data", "pretrained"]
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        copy_starter("custom-data", tmp_path / "used")
    with pytest.raises(ValueError, match="unknown track 'video'"):
        copy_starter("video", tmp_path / "new")


def test_make_project_starter_copies_the_kit_with_the_report_template(tmp_path):
    dest = tmp_path / "mine"
    proc = subprocess.run(
        ["make", "project-starter", "TRACK=pretrained", f"DEST={dest}"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in dest.iterdir()}
    assert {"Makefile", "project.py", "project.yml", "report.md", "build_report.py"} <= names
    assert "<!-- results:begin -->" in (dest / "report.md").read_text()


def test_custom_data_starter_trains_resumes_samples_and_fills_the_report(starter):
    folder = starter("custom-data")
    subprocess.run([sys.executable, "make_example_data.py", "data", "60"], cwd=folder, check=True)
    edit_yaml(
        folder / "project.yml",
        train__steps=12,
        train__batch_size=16,
        train__checkpoint_every=6,
        train__sample_every=6,
        evaluate__samples=16,
        evaluate__sampler_steps=5,
    )
    proc = run_make(folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((folder / "results" / "results.json").read_text())
    assert results["images"] == {"train": 48, "heldout": 12, "samples": 16}
    table = _table(folder)
    assert len(table) == len(results["rows"]) == 9
    for row in results["rows"]:
        assert table[f"{row['method']} / {row['metric']}"] == pytest.approx(row["value"], rel=1e-3)
    for name in ("samples.png", "heldout.png", "baseline.png", "loss.png", "sampling.gif"):
        assert (folder / "results" / name).stat().st_size > 0, name
    assert sorted(p.name for p in (folder / "runs" / "samples").iterdir())[:2] == [
        "step_0000006.png",
        "step_0000012.png",
    ]
    # A second `make train` resumes the finished run instead of starting again.
    again = run_make(folder, "train")
    assert again.returncode == 0 and "resuming at step 12 of 12" in again.stdout
    # Changed settings and an old checkpoint do not mix.
    edit_yaml(folder / "project.yml", train__lr=0.001)
    changed = run_make(folder, "train")
    assert changed.returncode != 0 and "make clean" in changed.stderr


def test_precision_recall_of_the_custom_data_starter(starter):
    project = _import_project(starter("custom-data"))
    g = torch.Generator().manual_seed(0)
    data = torch.randn(200, 3, 4, 4, generator=g)
    assert project.precision_recall(data, data) == (1.0, 1.0)
    far = data + 100.0
    assert project.precision_recall(far, data) == (0.0, 0.0)
    collapsed = data[:1].repeat(200, 1, 1, 1)  # one realistic sample, repeated
    precision, recall = project.precision_recall(collapsed, data)
    assert precision == 1.0 and recall < 0.1
    baseline = project.gaussian_baseline(data, 5000, seed=1).flatten(1).double()
    assert torch.allclose(baseline.mean(0), data.flatten(1).double().mean(0), atol=0.1)


def test_pretrained_starter_restores_and_fills_the_report(starter):
    folder = starter("pretrained")
    edit_yaml(folder / "project.yml", images=16, restore__steps=8, restore__resamplings=1)
    proc = run_make(folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    table = _table(folder)
    originals = [v for k, v in table.items() if k.startswith("Originals")]
    assert originals and all(v > 0.9 for v in originals)  # the judge reads whole digits
    assert (folder / "results" / "sampling.gif").stat().st_size > 0


def test_the_worked_example_runs_and_its_small_run_reproduces(starter):
    folder = starter("example")
    edit_yaml(folder / "project.yml", images=24, seeds=[0], steps=6)
    proc = run_make(folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    claimed = _table(folder)
    assert {k.split(" / ")[0] for k in claimed} >= {"Replacement", "RePaint", "DPS", "Originals"}

    note = check_project(folder, limit_s=300, rel_tol=0.0, abs_tol=1e-9)
    assert note.ok, note.markdown()
    assert note.markdown().count("| yes |") == len(claimed)

    # A report that claims a better number than the code gives is caught.
    report = folder / "report.md"
    key = next(k for k in claimed if k.startswith("DPS / PSNR"))
    value = f"{claimed[key]:.4g}"
    report.write_text(report.read_text().replace(f"| {value} |", "| 99.9 |", 1))
    tampered = check_project(folder, limit_s=300)
    assert not tampered.ok and "1 of" in tampered.verdict
    assert "| 99.9 |" in tampered.markdown()


@pytest.mark.slow
def test_the_worked_example_report_reproduces_at_full_budget(tmp_path):
    folder = copy_starter("example", tmp_path / "example")
    note = check_project(folder, limit_s=600)
    assert note.ok, note.markdown()


def test_the_check_runs_in_the_grading_container_when_one_is_named(starter, tmp_path, monkeypatch):
    folder = starter("pretrained")
    edit_yaml(folder / "project.yml", images=8, restore__steps=4, restore__resamplings=1)
    assert run_make(folder).returncode == 0
    # A stand-in engine: checks the offline, mounted invocation, then runs it here.
    engine = tmp_path / "fake-docker"
    log = tmp_path / "engine-args"
    engine.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {log}\n'
        '[ "$1 $2 $3 $4 $5" = "run --rm --network none -v" ] || exit 9\n'
        "src=${6%:/project}; shift 9\n"
        f'cd "$src" && exec "$@" PY={sys.executable}\n'
    )
    engine.chmod(0o755)
    monkeypatch.setenv("DIFFCOURSE_CONTAINER_ENGINE", str(engine))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    note = check_project(folder, limit_s=300, container="course/grading:2027")
    assert note.ok, note.markdown()
    args = log.read_text().split()
    assert args[-3:] == ["course/grading:2027", "make", "reproduce"]
    assert "--network none" in note.command
