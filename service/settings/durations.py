"""One spelling of durations for every duration setting.

A duration is plain seconds (`20`, `2.5`, as every `*_SECONDS` setting takes), a human form
of whole units (`500ms`, `90s`, `5m`, `24h`, `30d`, `2w`, combined as `1h30m` or `1d 12h`),
or ISO 8601 (`PT5M`, `P30D`, `P1DT12H`). Anything else is refused with a message that
names the accepted forms.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator

FORMS = "seconds (20), units (500ms, 90s, 5m, 24h, 30d, 2w, 1h30m) or ISO 8601 (PT5M, P30D)"

_SECONDS = re.compile(r"\d+(\.\d+)?")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNIT = re.compile(r"\s*(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_ISO = re.compile(
    r"P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
_ISO_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def _units(text: str) -> float | None:
    total, at = 0.0, 0
    if not text:
        return None
    while at < len(text):
        match = _UNIT.match(text, at)
        if match is None:
            return None
        total += float(match[1]) * _UNIT_SECONDS[match[2]]
        at = match.end()
    return total


def _iso(text: str) -> float | None:
    match = _ISO.fullmatch(text)
    if match is None or text.endswith(("P", "T")):
        return None
    return sum(float(v) * _ISO_SECONDS[k] for k, v in match.groupdict().items() if v)


def parse_duration(value: object) -> object:
    """A string in one of the accepted forms as a timedelta; other values pass on to pydantic
    (a timedelta or a number given in code)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return timedelta(seconds=float(text))
    seconds = _iso(text.upper()) if text.startswith(("P", "p")) else _units(text)
    if seconds is None:
        raise ValueError(f"not a duration: give {FORMS}")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
