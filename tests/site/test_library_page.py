"""The course-library page stays true to the code: every import in its examples
resolves, every command-line option it shows exists, every module it lists imports."""

from __future__ import annotations

import importlib
import re

from diffcourse.train import build_parser
from diffcourse_staff.course import REPO_ROOT
from diffcourse_staff.site.library import library_modules

PAGE = (REPO_ROOT / "site" / "library.md").read_text()


def test_example_imports_resolve():
    imports = re.findall(r"^from (diffcourse[\w.]*) import (.+)$", PAGE, re.M)
    assert imports
    for module, names in imports:
        mod = importlib.import_module(module)
        for name in (n.strip() for n in names.split(",")):
            assert hasattr(mod, name), f"library.md imports {module}.{name}, which does not exist"


def test_command_line_options_exist():
    options = {opt for action in build_parser()._actions for opt in action.option_strings}
    lines = [line for line in PAGE.splitlines() if "diffcourse.train" in line]
    shown = {o for line in lines for o in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", line)}
    assert shown and shown <= options, f"unknown options on the page: {sorted(shown - options)}"


def test_the_page_lists_every_module_the_wheel_ships_and_they_import():
    assert "{{ library_reference }}" in PAGE and "{{ library_install }}" in PAGE
    modules = [m for m, _ in library_modules()]
    assert {"samplers", "train", "pretrained", "metrics"} <= set(modules)
    for m in modules:
        assert not m.startswith(("release", "site", "projects", "course", "grad"))
        importlib.import_module(f"diffcourse.{m}")
