"""Scale checks: hidden cases that `grade-all` adds to a question's tests in the scale profile.

A problem set's sampling code is checked on Gradescope with what its hidden tests
can afford there (no GPU, half a CPU: dozens to a thousand samples). On the
course's grading host the same question can afford a hundred times more, and with
it thresholds tight enough to see a variance a little off or a step at the wrong
timestep. `assignments/<id>/staff/scale_checks.yml` declares such checks:

    q10_exact_law:                       # the check's name
      question: q10                      # the Otter test file it joins (tests/q10.py)
      points: 2                          # of the question's points, in the scale profile
      code: scale_checks/q10_exact_law.py  # plain Python, run as one hidden doctest case
      cpu: {n: 1000, z: 5.0}             # Gradescope's size: for calibration only
      scale: {n: 100000, z: 5.0}         # what grade-all runs

When `grade-all` (or `k8s-prepare`) grades with the scale profile, each check's code,
with `_P = <the profile's settings>` in front, becomes one more hidden case of its
question in the unpacked autograder. The question's total does not change: Otter's
rule splits what the check does not take over the other cases. The case runs like
every other hidden test: in the grader, the student's functions as proxies whose
calls run in the sandboxed worker. The cpu profile adds nothing, so `grade-all`
on a CPU host grades exactly as Gradescope does. ps3's q1b has its check inside the
notebook instead (the `_profile` dict of its hidden quality cell in ps3.py), since it also
runs on Gradescope.
"""

from __future__ import annotations

import ast
import json
import pprint
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from diffcourse_staff.course import REPO_ROOT
from diffcourse_staff.input_hash import Hasher

FILE_NAME = "scale_checks.yml"
PROFILES = ("cpu", "scale")
RECORD = "scale_checks.json"  # written into the unpacked autograder: what was added


class ScaleCheckError(ValueError):
    pass


class ScaleCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    question: str
    points: float = Field(gt=0)
    code: str
    cpu: dict
    scale: dict

    def source(self, folder: Path) -> str:
        path = folder / self.code
        if not path.is_file():
            raise ScaleCheckError(f"{folder / FILE_NAME}: {self.name}: no file {self.code}")
        return path.read_text(encoding="utf-8")

    def settings(self, profile: str) -> dict:
        if profile not in PROFILES:
            raise ScaleCheckError(f"profile must be one of {PROFILES}, not {profile!r}")
        return getattr(self, profile)


def staff_folder(assignment: str, root: Path = REPO_ROOT) -> Path:
    return root / "assignments" / assignment / "staff"


def load(folder: Path) -> list[ScaleCheck]:
    """The checks declared in folder/scale_checks.yml (none when there is no such file)."""
    path = folder / FILE_NAME
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ScaleCheckError(f"{path}: expected a mapping of check name -> settings")
    checks = []
    for name, spec in data.items():
        try:
            checks.append(ScaleCheck.model_validate({"name": str(name), **(spec or {})}))
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
            )
            raise ScaleCheckError(f"{path}: {name}: {problems}") from None
    return checks


def as_doctest(source: str) -> str:
    """Plain Python -> one doctest case: `>>> ` before each statement, `... ` on its lines.

    Comments and blank lines between statements are dropped (a blank line would end a
    doctest example); a statement whose value is not None would print and fail, so a
    check assigns or asserts.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    out = []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        body = [line for line in lines[start - 1 : node.end_lineno] if line.strip()]
        out.append(">>> " + body[0])
        out += ["... " + line for line in body[1:]]
    return "\n".join(out) + "\n"


def case_code(check: ScaleCheck, folder: Path, profile: str) -> str:
    """The check as run in `profile`: its settings bound to `_P`, then its code."""
    return as_doctest(f"_P = {check.settings(profile)!r}\n" + check.source(folder))


def _read_test(path: Path) -> dict:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "test":
            return ast.literal_eval(node.value)
    raise ScaleCheckError(f"{path}: no `test = {{...}}` dictionary")


def add_to_source(source: Path, folder: Path, profile: str) -> list[str]:
    """Add the scale checks of `folder` to the unpacked autograder `source` for `profile`.

    Returns the names added (none for the cpu profile). Writes source/scale_checks.json.
    """
    checks = load(folder)
    added: list[dict] = []
    for check in checks if profile == "scale" else []:
        path = source / "tests" / f"{check.question}.py"
        if not path.is_file():
            raise ScaleCheckError(
                f"{folder / FILE_NAME}: {check.name}: the autograder has no test file "
                f"tests/{check.question}.py"
            )
        test = _read_test(path)
        total = test.get("points")
        cases = [c for s in test.get("suites", []) for c in s.get("cases", [])]
        if not isinstance(total, (int, float)) or any(c.get("points") is not None for c in cases):
            raise ScaleCheckError(
                f"{path}: {check.name} needs a question total (`points: N`) split over its "
                "cases; this test gives points per case"
            )
        if check.points >= total:
            raise ScaleCheckError(
                f"{folder / FILE_NAME}: {check.name}: {check.points:g} points is not less than "
                f"{check.question}'s {total:g}"
            )
        case = {"code": case_code(check, folder, profile), "hidden": True, "locked": False}
        test["suites"][-1]["cases"].append(case | {"points": check.points})
        path.write_text("OK_FORMAT = True\n\ntest = " + pprint.pformat(test, width=100) + "\n")
        added.append({"name": check.name, "question": check.question, "points": check.points})
    (source / RECORD).write_text(json.dumps({"profile": profile, "added": added}, indent=2))
    return [a["name"] for a in added]


def digest(folder: Path, profile: str) -> str:
    """What the grades depend on besides the zip: the profile and its checks' text."""
    h = Hasher().text("profile", profile)
    if profile == "scale":
        for check in load(folder):
            h.text(f"check:{check.name}", check.model_dump_json() + check.source(folder))
    return h.hexdigest()[:16]
