"""docs/architecture.md where it is mechanical: every file and folder it names exists; its
layout table names every module of each folder, in that folder's row; every dotted name
(`relay.handoff.Handoff`, `Publisher.ping`) is defined where it says, every name in
capitals is a setting or a constant of ours, every metric one we export, and every
`orders` command it gives is one the command's parser takes.

Of seven claims of the page checked by hand in issue 18, three held: ports declared by a
module that no longer held them, a module split and still named whole, a count of files
that had doubled. What a program can check, it checks here; what it cannot (an order of
operations, a count of history events) is held by the tests the page cites."""

from __future__ import annotations

import re

import pytest

from tests.support.doc_checks import problems
from tests.support.doc_commands import ROOT, Documented, inline_commands
from tests.support.doc_names import (
    PACKAGES,
    bare_paths,
    metrics,
    missing_metric,
    missing_name,
    missing_path,
    spans,
)

DOC = "docs/architecture.md"


def page() -> str:
    return (ROOT / DOC).read_text()


def layout_rows(text: str) -> dict[str, str]:
    """The layout table's rows: `core/` -> the row."""
    rows = {}
    for line in text.splitlines():
        first = re.match(r"\| `(\w[\w-]*/)` \|", line)
        if first and line.count("|") == 3:
            rows[first[1]] = line
    return rows


def folders_of(folder: str, row: str) -> tuple[str, ...]:
    """Where a bare file name of `folder`'s row lives: the folder, and the subfolders the
    row names (`settings/` in `service/`'s row)."""
    subfolders = [s for s in spans(row) if re.fullmatch(r"\w+/", s) and s != folder]
    return (folder, *(folder + s for s in subfolders))


def path_problems(text: str) -> list[str]:
    rows = layout_rows(text)
    found = []
    for line in text.splitlines():
        folder = next((f for f, row in rows.items() if row == line), None)
        folders = folders_of(folder, line) if folder else ()
        for span in spans(line):
            problem = missing_path(span, folders if span != folder else ())
            found += [problem] if problem else []
        found += [p for path in bare_paths(line) if (p := missing_path(path))]
    return found


def name_problems(text: str) -> list[str]:
    found = [p for span in spans(text) if (p := missing_name(span))]
    found += [p for name in metrics(text) if (p := missing_metric(name))]
    return sorted(set(found))


def unnamed_modules(text: str) -> list[str]:
    """Modules of a package that its layout row does not name (nor the subfolder they are in)."""
    rows = layout_rows(text)
    found = []
    for package in PACKAGES:
        row = rows.get(f"{package}/", "")
        named = set(spans(row))
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT / package)
            if path.name.startswith("__"):  # __init__.py, __main__.py
                continue
            if relative.parts[0] + "/" in named if len(relative.parts) > 1 else path.name in named:
                continue
            found.append(f"{package}/{relative.as_posix()}")
    return found


def test_the_layout_table_is_found() -> None:
    assert set(layout_rows(page())) >= {f"{p}/" for p in PACKAGES}


def test_every_file_and_folder_the_page_names_exists() -> None:
    assert path_problems(page()) == []


def test_the_layout_table_names_every_module_in_its_folder_row() -> None:
    assert unnamed_modules(page()) == []


def test_every_name_the_page_gives_is_the_codes() -> None:
    assert name_problems(page()) == []


@pytest.mark.parametrize("command", inline_commands(DOC), ids=lambda c: f"{c.line}:{c.text[:40]}")
def test_every_command_the_page_gives_holds_up(command: Documented) -> None:
    assert problems(command) == []


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("held by `relay/nothing.py`", "relay/nothing.py: no such file"),
        ("| `relay/` | the relay (`outboxes.py`) |", "outboxes.py: not in relay/"),
        ("counted by tests/e2e/test_nothing.py", "tests/e2e/test_nothing.py"),
        ("declared by `relay.outbox.Handoff`", "relay.outbox.Handoff: defined by no module"),
        ("`Publisher.pong`", "Publisher.pong: defined by no module"),
        ("`RELAY_LEASE_SECOND` (30)", "RELAY_LEASE_SECOND: neither a setting nor a constant"),
        ("the `orders_nothing_total` counter", "orders_nothing_total: no metric"),
    ],
)
def test_the_check_catches_drift(line: str, said: str) -> None:
    text = f"{line}\n"
    found = path_problems(text) + name_problems(text)
    assert any(said in problem for problem in found), found


def test_a_module_missing_from_its_row_is_found() -> None:
    rows = "\n".join(f"| `{p}/` | nothing |" for p in PACKAGES)
    assert "relay/window.py" in unnamed_modules(rows)
