"""The JSON Schema that staff's editors check course.yml with, and the loader's error list.

Editors read YAML 1.2 (a date stays text), so the files are loaded here the same way
before the schema checks them.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from diffcourse_staff.course import DEFAULT_COURSE_FILE, CourseFileError, load_course
from diffcourse_staff.course_schema import json_schema, rules
from tests.course.test_course_file import _valid_course, _write

SCHEMES = Path(__file__).resolve().parents[1] / "grades" / "schemes"


class EditorLoader(yaml.SafeLoader):
    """YAML as the YAML language server reads it: no timestamp type."""


EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def editor_view(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=EditorLoader)


@pytest.fixture(scope="module")
def validator():
    schema = json_schema()
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft7Validator  # what the YAML language server supports
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(validator, data) -> list[str]:
    return sorted(
        ".".join(map(str, e.absolute_path)) + ": " + e.validator
        for e in validator.iter_errors(data)
    )


def test_the_real_course_file_and_the_examples_pass(validator):
    assert isinstance(editor_view(DEFAULT_COURSE_FILE)["course"]["start"], str)
    for path in [DEFAULT_COURSE_FILE, *sorted(SCHEMES.glob("*/course.yml"))]:
        assert _errors(validator, editor_view(path)) == [], path


def _set(data: dict, path: list, value):
    *head, last = path
    for key in head:
        data = data[key]
    if value is KeyError:
        del data[last]
    else:
        data[last] = value


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        (["assignments", 0, "pionts"], 3, "assignments.0: additionalProperties"),
        (["assignments", 0, "due"], KeyError, "assignments.0: required"),
        (["assignments", 0, "kind"], "homework", "assignments.0.kind: enum"),
        (["assignments", 0, "points"], "ten", "assignments.0.points: type"),
        (["assignments", 0, "id"], "PS1", "assignments.0.id: pattern"),
        (["course", "start"], "2027-02-30", "course.start: format"),
        (["course", "meetings", 0, "days", 0], "Mo", "course.meetings.0.days.0: enum"),
        (["staff", 0, "email"], "nobody", "staff.0.email: pattern"),
        (["late_policy", "penalty_percent_per_day"], 120, "late_policy.penalty_percent_per_day"),
        (["grading", "parts", "ps1", 0, "container"], "yes", "grading.parts.ps1.0.container"),
    ],
)
def test_a_broken_copy_is_rejected_at_its_key(validator, path, value, error):
    data = copy.deepcopy(editor_view(DEFAULT_COURSE_FILE))
    _set(data, path, value)
    errors = _errors(validator, data)
    assert any(e.startswith(error) for e in errors), errors


def test_make_course_schema_writes_the_schema(tmp_path):
    out = tmp_path / "build" / "course.schema.json"
    subprocess.run(
        [sys.executable, "-m", "diffcourse_staff.course_schema", str(out)],
        check=True,
        capture_output=True,
    )
    assert json.loads(out.read_text()) == json_schema()


def test_every_field_error_is_listed_at_once(tmp_path):
    data = _valid_course(tmp_path)
    data["assignments"][0]["points"] = "ten"
    data["staff"][0]["email"] = "nobody"
    data["late_policy"]["unit"] = "week"
    with pytest.raises(CourseFileError) as err:
        load_course(_write(tmp_path, data))
    keys = [err.value.key] + [key for key, _ in err.value.others]
    assert keys == ["staff[0].email", "assignments[0].points", "late_policy.unit"]
    assert "expected a whole number, got 'ten'" in str(err.value)
    assert "unknown unit 'week' (use day, hour)" in str(err.value)


def test_the_staff_page_names_every_rule():
    page = (Path(__file__).resolve().parents[2] / "site" / "staff" / "course-file.md").read_text()
    named = {name for names in rules().values() for name in names}
    assert len(named) > 25
    assert [name for name in sorted(named) if f"`{name}`" not in page] == []
