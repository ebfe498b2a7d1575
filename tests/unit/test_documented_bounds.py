"""docs/architecture.md's table of bounds ("Every loop ends") says each loop's bound and
the setting or constant that sets it: every number it gives beside a name, `NAME` (N) or
`NAME`, N, is that setting's default or that constant's value, so a change to one that
leaves the table behind fails here."""

from __future__ import annotations

import importlib
import inspect
import re
from datetime import timedelta

import pytest

from core.backoff import BackoffPolicy
from service.settings import Settings
from tests.support.doc_commands import ROOT

NAMED_NUMBER = re.compile(r"`([A-Za-z_][\w.]*)`(?: \(|, )(\d+(?:\.\d+)?)(?: ?(ms|s|m|h|d)\b)?")
UNIT_SECONDS = {None: 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# Where a constant named alone in the table lives.
MODULES = ("workflows.policies", "relay.marks", "processing.tasks", "service.worker")


def bounds_table() -> str:
    text = (ROOT / "docs/architecture.md").read_text()
    return text.split("\n## Every loop ends: the bounds\n", 1)[1].split("\n## ", 1)[0]


def named_numbers() -> list[tuple[str, float, str | None]]:
    """(name, number, unit) for each `NAME` (N) of the table; a parameter's name (lower
    case) is qualified by the class or function named before it in the row."""
    found = []
    for row in bounds_table().splitlines():
        for match in NAMED_NUMBER.finditer(row):
            name, number, unit = match.groups()
            if name.islower() and "." not in name:
                owner = re.findall(r"`([\w.]+\.[A-Z]\w*)`", row[: match.start()])
                name = f"{owner[-1]}:{name}" if owner else name
            found.append((name, float(number), unit or None))
    return found


def value_of(name: str) -> object:
    """A setting's default (`OUTBOX_MAX_ATTEMPTS`), a constant (`module.NAME`, or a name of
    one of MODULES), or a parameter's default (`module.Class:parameter`)."""
    if ":" in name:
        owner, _, parameter = name.partition(":")
        module, _, attribute = owner.rpartition(".")
        target = getattr(importlib.import_module(module), attribute)
        return inspect.signature(target).parameters[parameter].default
    fields = Settings.model_fields
    if name.lower() in fields:
        return fields[name.lower()].default
    if "." in name:
        module, _, attribute = name.rpartition(".")
        return getattr(importlib.import_module(module), attribute)
    for module in MODULES:
        found = getattr(importlib.import_module(module), name, None)
        if found is not None:
            return found
    raise LookupError(f"{name}: neither a setting nor a constant of {MODULES}")


def test_the_table_names_numbers() -> None:
    assert len(named_numbers()) >= 15


@pytest.mark.parametrize(("name", "number", "unit"), named_numbers(), ids=lambda v: str(v))
def test_a_number_in_the_bounds_table_is_the_codes(
    name: str, number: float, unit: str | None
) -> None:
    value = value_of(name)
    if isinstance(value, BackoffPolicy):
        value = value.initial  # `core.backoff.RETRY` (1 s doubling ...)
    if isinstance(value, timedelta):
        value = value.total_seconds()
    assert isinstance(value, int | float), (name, value)
    assert value == number * UNIT_SECONDS[unit], name
