"""The README's configuration table and the settings hold each other up: every variable it
names is a setting, every setting is in it, and every default it writes, given as the
variable's value, is the setting's default (`1s` for a duration of one second, `api,worker`
for a set of roles). A default written in words, `(none)` or `(required)`, is not checked.
(Five settings were missing from the table when this test was written.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from service.settings import Settings
from tests.support.doc_commands import ROOT
from tests.support.settings import TEST_SECRET_KEY

Row = tuple[list[str], list[str]]  # the variables, their defaults


def split_defaults(cell: str) -> list[str]:
    """A row's defaults: split at `, ` outside parentheses (`GET,POST` is one, a list)."""
    parts, depth, current = [], 0, ""
    for at, char in enumerate(cell):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0 and cell[at + 1 : at + 2] == " ":
            parts.append(current.strip())
            current = ""
            continue
        current += char
    return [*parts, current.strip()]


def table_rows(text: str) -> list[Row]:
    section = text.split("## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows.append((re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0]), split_defaults(cells[1])))
    return rows


def readme_rows() -> list[Row]:
    return table_rows((ROOT / "README.md").read_text())


def documented_defaults(rows: list[Row]) -> list[tuple[str, str]]:
    """(variable, default as written) where the row gives one default per variable and
    that default is a value, not words."""
    found = []
    for names, defaults in rows:
        if len(names) != len(defaults):
            continue
        for name, default in zip(names, defaults, strict=True):
            if default and not re.search(r"[(`…]", default):
                found.append((name, default))
    return found


def test_every_variable_of_the_table_is_a_setting() -> None:
    named = [name for names, _ in readme_rows() for name in names]
    assert len(named) > 80
    assert [n for n in named if n.lower() not in Settings.model_fields] == []


def test_every_setting_is_in_the_table() -> None:
    named = {name for names, _ in readme_rows() for name in names}
    assert [f.upper() for f in Settings.model_fields if f.upper() not in named] == []


def is_the_default(name: str, written: str) -> bool:
    """The setting `name` given the text `written` has its default value."""
    field = name.lower()
    given: dict[str, Any] = {"rabbitmq_password": "guest", field: written}
    settings = Settings(secret_key=TEST_SECRET_KEY, **given)
    return bool(getattr(settings, field) == Settings.model_fields[field].default)


@pytest.fixture
def no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_the_defaults_checked_are_most_of_them() -> None:
    assert len(documented_defaults(readme_rows())) > 60


@pytest.mark.usefixtures("no_environment")
@pytest.mark.parametrize(
    ("name", "written"), documented_defaults(readme_rows()), ids=lambda v: str(v)
)
def test_a_documented_default_is_the_settings(name: str, written: str) -> None:
    assert is_the_default(name, written)


@pytest.mark.usefixtures("no_environment")
def test_a_wrong_default_is_found() -> None:
    text = "## Configuration\n\n| `RELAY_LEASE_SECONDS`, `SERVICE_ROLES` | 31, api,relay | x |\n"
    found = documented_defaults(table_rows(text))
    assert found == [("RELAY_LEASE_SECONDS", "31"), ("SERVICE_ROLES", "api,relay")]
    assert not any(is_the_default(name, written) for name, written in found)
