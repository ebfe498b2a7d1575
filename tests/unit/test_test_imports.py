"""Tests import their builders and fixtures' helpers from tests/support, never from another
test module or a conftest (issue 18 item 5): a test module holds tests, not a library."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def is_test_module(module: str) -> bool:
    name = module.rpartition(".")[2]
    return name.startswith("test_") or name == "conftest"


def package_of(path: Path) -> str:
    return ".".join(path.relative_to(TESTS.parent).parent.parts)


def imported_test_modules(source: str, package: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{module}" if module else base
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [n for n in names if n.startswith("tests.") and is_test_module(n)]
    return found


def test_no_test_module_imports_another() -> None:
    offenders = {
        str(path.relative_to(TESTS)): imported
        for path in sorted(TESTS.rglob("*.py"))
        if (imported := imported_test_modules(path.read_text(), package_of(path)))
    }
    assert offenders == {}


def test_the_rule_sees_an_import_of_a_test_module() -> None:
    source = "from tests.unit.test_settings import SECRET\nfrom .conftest import x\n"
    assert imported_test_modules(source, "tests.unit") == [
        "tests.unit.test_settings",
        "tests.unit.conftest",
    ]
