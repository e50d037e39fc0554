"""Figures are deterministic and remade only when the code they run changes."""

from __future__ import annotations

import os
import textwrap

import pytest

from diffcourse_staff.site import figures
from diffcourse_staff.site.gallery import Figure

CHEAP = "l02-schedules.png"


def test_figures_are_deterministic_and_stamped(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    made = figures.make_figures(a, [CHEAP], log=lambda *x: None)
    assert list(made) == [CHEAP]
    # Current now: nothing is remade.
    assert figures.make_figures(a, [CHEAP], log=lambda *x: None) == {}
    figures.make_figures(b, [CHEAP], force=True, log=lambda *x: None)
    assert (a / CHEAP).read_bytes() == (b / CHEAP).read_bytes()


def test_a_changed_stamp_or_a_deleted_file_makes_a_figure_stale(tmp_path):
    figures.make_figures(tmp_path, [CHEAP], log=lambda *x: None)
    fig = next(f for f in figures.FIGURES if f.name == CHEAP)
    assert fig not in figures.stale(tmp_path, [fig])
    stamps = tmp_path / figures.STAMPS
    stamps.write_text(stamps.read_text().replace(figures.input_hash(fig), "0" * 64))
    assert fig in figures.stale(tmp_path, [fig])
    figures.make_figures(tmp_path, [CHEAP], log=lambda *x: None)
    (tmp_path / CHEAP).unlink()
    assert fig in figures.stale(tmp_path, [fig])  # a deleted file is stale too


def test_unknown_figure_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown figure"):
        figures.make_figures(tmp_path, ["nope.png"])


# A gallery and a library of our own, written to disk, so that editing "a source file"
# is a real edit: each test gets fresh package names (modules are cached by name).
GALLERY = {
    "__init__.py": "",
    "style.py": """
        def save(path):
            path.write_text("style 1")
    """,
    "helpers.py": """
        from {lib}.b import bee

        def used():
            return 1

        def unused():
            return bee()

        SIZE = 8
    """,
    "figs.py": """
        from {gal} import helpers
        from {gal}.style import save


        def fig_a(path):
            from {lib}.a import ay

            helpers.used()
            save(path)


        def fig_b(path):
            helpers.unused()
            return helpers.SIZE
    """,
}
LIBRARY = {
    "__init__.py": "",
    "a.py": "from .b import bee\n\ndef ay():\n    return bee()\n",
    "b.py": "def bee():\n    return 2\n",
    "c.py": "def sea():\n    return 3\n",
}


@pytest.fixture
def toy(tmp_path, monkeypatch, request):
    suffix = request.node.name.replace("[", "_").replace("]", "_").replace("-", "_")
    gal, lib = f"toygal_{suffix}", f"toylib_{suffix}"
    for package, files in ((gal, GALLERY), (lib, LIBRARY)):
        (tmp_path / package).mkdir()
        for name, text in files.items():
            (tmp_path / package / name).write_text(textwrap.dedent(text.format(gal=gal, lib=lib)))
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    figs = importlib.import_module(f"{gal}.figs")

    def edit(package: str, name: str, old: str, new: str) -> None:
        """Change a source file in place (line numbers stay) and move its mtime on."""
        assert old.count("\n") == new.count("\n")
        path = tmp_path / package / name
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))

    def key(fig_name: str) -> str:
        fig = Figure(f"{fig_name}.png", getattr(figs, fig_name))
        return figures.input_hash(fig, local=gal, library=lib)

    return gal, lib, figs, edit, key


def test_a_figure_depends_on_exactly_the_code_it_runs(toy):
    gal, lib, figs, _, _ = toy
    a = figures.figure_inputs(Figure("a.png", figs.fig_a), local=gal, library=lib)
    assert [f.__qualname__ for f in a.code] == ["fig_a", "used", "save"]
    assert a.modules == (lib, f"{lib}.a", f"{lib}.b")  # b through a's own import; not c
    assert a.constants == ()
    b = figures.figure_inputs(Figure("b.png", figs.fig_b), local=gal, library=lib)
    assert [f.__qualname__ for f in b.code] == ["fig_b", "unused"]
    assert b.modules == (lib, f"{lib}.b")  # named through helpers' top-level import
    assert b.constants == ((f"{gal}.helpers.SIZE", "8"),)


def test_editing_a_helper_changes_only_the_figures_that_call_it(toy):
    gal, _, _, edit, key = toy
    before = {name: key(name) for name in ("fig_a", "fig_b")}
    edit(gal, "helpers.py", "return 1", "return 7")  # `used`: fig_a only
    assert key("fig_a") != before["fig_a"]
    assert key("fig_b") == before["fig_b"]
    before = {name: key(name) for name in ("fig_a", "fig_b")}
    edit(gal, "helpers.py", "return bee()", "return bee( )")  # `unused`: fig_b only
    assert key("fig_a") == before["fig_a"]
    assert key("fig_b") != before["fig_b"]
    before = {name: key(name) for name in ("fig_a", "fig_b")}
    edit(gal, "style.py", "style 1", "style 2")  # the shared look: fig_a saves through it
    assert key("fig_a") != before["fig_a"]
    assert key("fig_b") == before["fig_b"]


def test_editing_a_library_module_changes_the_figures_that_import_it_at_any_depth(toy):
    _, lib, _, edit, key = toy
    before = {name: key(name) for name in ("fig_a", "fig_b")}
    edit(lib, "c.py", "return 3", "return 4")  # imported by no one
    assert {name: key(name) for name in before} == before
    edit(lib, "b.py", "return 2", "return 5")  # a imports b; fig_b names bee directly
    assert key("fig_a") != before["fig_a"]
    assert key("fig_b") != before["fig_b"]


def test_the_real_gallery_keys_each_figure_by_its_own_helpers():
    inputs = {f.name: figures.figure_inputs(f) for f in figures.FIGURES}
    calls = {name: {c.__qualname__ for c in d.code} for name, d in inputs.items()}
    assert "digits_sample" in calls["l17-audit.png"]
    assert "digits_sample" not in calls[CHEAP]
    assert {"l02_schedules", "pyplot", "save"} == calls[CHEAP]
    assert "diffcourse.schedules" in inputs[CHEAP].modules
    assert not {"diffcourse.pretrained", "diffcourse.samplers"} & set(inputs[CHEAP].modules)
    users = {name for name, d in inputs.items() if "diffcourse.pretrained" in d.modules}
    assert "l09-inpainting.png" in users and "l13-few-step.png" not in users
    # l09's inverse module samples through the samplers: a transitive input.
    assert "diffcourse.samplers" in inputs["l09-inpainting.png"].modules
