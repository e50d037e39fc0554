"""Value types of the course file and the wording of its errors.

Each type refuses a bad value with the message staff see; `Section` is the base of
every mapping (a missing or unknown key is named with the keys allowed); `problems`
turns pydantic's errors into (key path, problem) pairs in the course file's words.
"""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

ASSIGNMENT_KINDS = ("problem_set", "project", "exam", "presentation")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
GRADING_SCHEMES = ("percent", "points")
PENALTY_BASES = ("score", "points")
LATE_UNITS = {"day": 86400, "hour": 3600}


class Invalid(ValueError):
    """A broken rule: the problem, and the key it is about relative to the model."""

    def __init__(self, problem: str, *at: str | int):
        super().__init__(problem)
        self.problem, self.at = problem, at


# --------------------------------------------------------------------------
# Value types: each refuses a bad value with the message staff see.


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise Invalid(f"expected a date (YYYY-MM-DD), got a date and time {value}")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"not a valid date (YYYY-MM-DD): {value!r}") from None


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date) or ":" not in str(value):
        raise Invalid(f"needs a time as well, for example {value}T23:59")
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"not a valid date and time (YYYY-MM-DDTHH:MM): {value!r}") from None


def choice(noun: str, options: tuple[str, ...]):
    """A text that must be one of options; the JSON Schema lists them."""

    def check(value: Any) -> Any:
        if value not in options:
            raise Invalid(f"unknown {noun} {value!r} (use {', '.join(options)})")
        return value

    return Annotated[Literal[options], BeforeValidator(check)]


def _email(value: str) -> str:
    if "@" not in value:
        raise Invalid(f"not an email address: {value!r}")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown time zone {value!r} (an IANA name: America/New_York)") from None
    return value


def _assignment_id(value: str) -> str:
    if not value.replace("_", "").isalnum() or not value.islower():
        raise Invalid(f"ids are lower-case letters, digits and _: {value!r}")
    return value


Text = Annotated[
    str, Field(min_length=1), BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v)
]
Date = Annotated[
    dt.date,
    BeforeValidator(_date),
    WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD"}),
]
DateTime = Annotated[
    dt.datetime,
    BeforeValidator(_datetime),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}",
            "description": "date and time in the course time zone, YYYY-MM-DDTHH:MM",
        }
    ),
]
Email = Annotated[Text, AfterValidator(_email), Field(json_schema_extra={"pattern": "@"})]
AssignmentId = Annotated[
    Text,
    AfterValidator(_assignment_id),
    Field(json_schema_extra={"pattern": "^[a-z0-9_]*[a-z][a-z0-9_]*$"}),
]
TimeZone = Annotated[Text, AfterValidator(_time_zone)]
Count = Annotated[int, Field(ge=0)]


def amount(minimum: float = 0, maximum: float | None = None, above: bool = False):
    """A number (int or float, kept as written) within limits; `above`: more than minimum."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(f"expected a number, got {value!r}")
        if above and value <= minimum:
            raise Invalid(f"must be more than {minimum:g}, got {value:g}")
        if value < minimum:
            raise Invalid(f"must be at least {minimum:g}, got {value:g}")
        if maximum is not None and value > maximum:
            raise Invalid(f"cannot exceed {maximum:g}, got {value:g}")
        return value

    limits = {"exclusiveMinimum" if above else "minimum": minimum}
    if maximum is not None:
        limits["maximum"] = maximum
    return Annotated[float, PlainValidator(check), WithJsonSchema({"type": "number", **limits})]


Amount = amount()


class Section(BaseModel):
    """A mapping of known keys: a missing or unknown key is named with the keys allowed."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise Invalid(f"expected a mapping, got {type(data).__name__}")
        fields = cls.model_fields
        missing = sorted(n for n, f in fields.items() if f.is_required() and n not in data)
        if missing:
            raise Invalid(f"missing required key(s): {', '.join(missing)}")
        unknown = sorted(str(k) for k in data if k not in fields)
        if unknown:
            hints = [difflib.get_close_matches(k, list(fields), n=1) for k in unknown]
            close = [f"'{h[0]}'" for h in hints if h]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            allowed = ", ".join(sorted(fields))
            raise Invalid(f"unknown key(s): {', '.join(unknown)} (allowed: {allowed}){hint}")
        return data


def unique(values: list, what: str, where: str, field: str) -> None:
    """Refuse the first value seen before, naming the key of its list entry."""
    seen = set()
    for i, value in enumerate(values):
        if value in seen:
            raise Invalid(f"duplicate {what} {value!r}", *where.split("."), i, field)
        seen.add(value)


# --------------------------------------------------------------------------
# Pydantic's errors as (key path, problem) in the course file's words.


def key_path(loc: tuple) -> str:
    """('assignments', 2, 'due') -> 'assignments[2].due'."""
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else f".{part}" if key else str(part)
    return key or "(top level)"


def _problem(error: dict) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if "error" in ctx:
        return str(ctx["error"])
    messages = {
        "string_type": f"expected text, got {value!r}",
        "string_too_short": f"expected non-empty text, got {value!r}",
        "int_type": f"expected a whole number, got {value!r}",
        "float_type": f"expected a number, got {value!r}",
        "bool_type": f"expected true or false, got {value!r}",
        "list_type": f"expected a list, got {value!r}",
        "dict_type": f"expected a mapping, got {value!r}",
        "too_short": "expected a non-empty list",
        "greater_than_equal": f"must be at least {ctx.get('ge')}, got {value!r}",
        "greater_than": f"must be more than {ctx.get('gt')}, got {value!r}",
        "less_than_equal": f"cannot exceed {ctx.get('le')}, got {value!r}",
    }
    return messages.get(kind, error["msg"])


def problems(err: ValidationError) -> list[tuple[str, str]]:
    """Every error of a validation, as (key path, problem), in the file's order."""
    out = []
    for error in err.errors():
        loc = tuple(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, Invalid):
            loc += cause.at
        out.append((key_path(loc), _problem(error)))
    return out
