"""Lateness: Gradescope's "Lateness (H:M:S)" to whole late units, with grace and extensions."""

from __future__ import annotations

import datetime as dt
import math
import re

LATENESS_RE = re.compile(r"^\s*(\d+):([0-5]?\d):([0-5]?\d)\s*$")
SUBMISSION_TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"  # 2027-02-02 23:59:01 -0500


def parse_lateness(text: str) -> int:
    """Seconds late from "H:M:S" (hours are not capped at 24: "225:07:02"); blank is 0."""
    if text is None or not str(text).strip():
        return 0
    m = LATENESS_RE.match(str(text))
    if not m:
        raise ValueError(f"not a lateness in H:M:S: {text!r}")
    h, mi, s = (int(g) for g in m.groups())
    return h * 3600 + mi * 60 + s


def parse_submission_time(text: str) -> dt.datetime | None:
    """Gradescope's submission time ("2027-02-02 23:59:01 -0500"); blank is None."""
    if text is None or not str(text).strip():
        return None
    try:
        return dt.datetime.strptime(str(text).strip(), SUBMISSION_TIME_FORMAT)
    except ValueError:
        raise ValueError(
            f"not a submission time like 2027-02-02 23:59:01 -0500: {text!r}"
        ) from None


def late_units(seconds: int, *, unit_seconds: int, grace_minutes: int, extension_units: int) -> int:
    """Whole late units: lateness, less the extension, less the grace period, rounded up.

    A submission inside the grace period is on time; one second past it is one unit.
    """
    effective = seconds - extension_units * unit_seconds - grace_minutes * 60
    if effective <= 0:
        return 0
    return math.ceil(effective / unit_seconds)
