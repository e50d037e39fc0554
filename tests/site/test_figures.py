"""Figures are deterministic and remade only when their inputs change."""

from __future__ import annotations

import pytest

from diffcourse_staff.site import figures

CHEAP = "l02-schedules.png"


def test_figures_are_deterministic_and_stamped(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    made = figures.make_figures(a, [CHEAP], log=lambda *x: None)
    assert list(made) == [CHEAP]
    # Current now: nothing is remade.
    assert figures.make_figures(a, [CHEAP], log=lambda *x: None) == {}
    figures.make_figures(b, [CHEAP], force=True, log=lambda *x: None)
    assert (a / CHEAP).read_bytes() == (b / CHEAP).read_bytes()


def test_a_changed_input_makes_a_figure_stale(tmp_path, monkeypatch):
    figures.make_figures(tmp_path, [CHEAP], log=lambda *x: None)
    fig = next(f for f in figures.FIGURES if f.name == CHEAP)
    assert fig not in figures.stale(tmp_path, [fig])
    real = figures._module_source
    monkeypatch.setattr(
        figures, "_module_source", lambda name: real(name) + (b"#" if name == "schedules" else b"")
    )
    assert fig in figures.stale(tmp_path, [fig])
    (tmp_path / CHEAP).unlink()
    monkeypatch.undo()
    assert fig in figures.stale(tmp_path, [fig])  # a deleted file is stale too


def test_unknown_figure_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown figure"):
        figures.make_figures(tmp_path, ["nope.png"])


def test_every_figure_is_used_by_a_page_and_every_used_figure_exists(course):
    from diffcourse_staff.course import REPO_ROOT

    text = "".join(p.read_text() for p in (REPO_ROOT / "site").rglob("*.md"))
    text += "".join((course.path.parent / lec.notes).read_text() for lec in course.lectures)
    names = {f.name for f in figures.FIGURES}
    used = {n for n in names if f"figures/{n}" in text}
    assert used == names, f"figures no page shows: {sorted(names - used)}"
    import re

    referenced = set(re.findall(r"figures/([a-z0-9-]+\.(?:png|gif))", text))
    assert referenced <= names, f"pages show figures nobody makes: {sorted(referenced - names)}"
