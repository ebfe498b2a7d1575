"""What a page of the docs names in the code, and whether the code has it: files and
folders, dotted names (`relay.handoff.Handoff`, `Publisher.ping`), names in capitals (a
setting, or a constant of ours), Prometheus metric names. The code is read with `ast`,
nothing imported: a name counts where it is defined, not where it is re-exported, so a
page that says which module declares a port is held to the module that does."""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass, field

from service.settings import Settings
from tests.support.doc_commands import ROOT

PACKAGES = (
    "core",
    "store",
    "usecases",
    "api",
    "workflows",
    "activities",
    "relay",
    "messaging",
    "processing",
    "service",
)

# Named by the docs, defined by no module of ours: a library's, the protocols', SQL's.
EXTERNAL = frozenset(
    {
        "AppRunner._make_server",  # aiohttp's, the one private hook overridden
        "workflow.defn",
        "workflow.patched",
        "uuid.UUID",
        "UUID",
        "REJECT_DUPLICATE",  # Temporal's id-reuse and id-conflict policies
        "FAIL",
        "AUTO_UPGRADE",
        "RESOURCE_EXHAUSTED",  # a gRPC status
        "INVALID_ARGUMENT",
        "POST",
        "GET",
        "PATCH",
        "PYTHONDONTWRITEBYTECODE",
        "orders.id",  # table.column
        "outbox.aggregate_id",
        "users.pending_orders",
    }
)

_SPAN = re.compile(r"`([^`\n]+)`")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.\w+)+")
_CAPITALS = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{3,}")
_PATH = re.compile(r"[\w.-]+(?:/[\w.-]*)*")
_BARE_PATH = re.compile(r"(?<![`\w/.])((?:tests|docs|bench|deploy|run|temporal-dev)/[\w./-]*\w)")
_METRIC = re.compile(r"\borders_[a-z_]+[a-z]\b")
_FILE_SUFFIXES = (".py", ".md", ".sh", ".conf", ".yml", ".yaml", ".toml", ".lua", ".sql")


@dataclass
class Module:
    names: set[str] = field(default_factory=set)  # defined at module level
    classes: dict[str, set[str]] = field(default_factory=dict)  # dotted class -> its members


@dataclass
class Code:
    modules: dict[str, Module]  # `relay.handoff` -> what it defines
    strings: set[str]  # every string literal of the product code

    def has(self, dotted: str) -> bool:
        """`pkg.module[.Name[.member...]]`, or `Class.member` of any module of ours."""
        parts = dotted.split(".")
        if parts[0] in PACKAGES:
            for cut in range(len(parts), 0, -1):
                module = self.modules.get(".".join(parts[:cut]))
                if module is not None:
                    return _defines(module, parts[cut:])
            return False
        return any(_defines(m, parts) for m in self.modules.values())

    def defines(self, name: str) -> bool:
        """A name defined at module level, or in a class, anywhere in the product code."""
        return any(
            name in m.names or any(name in members for members in m.classes.values())
            for m in self.modules.values()
        )


def _defines(module: Module, parts: list[str]) -> bool:
    if not parts:
        return True
    if len(parts) == 1:
        return parts[0] in module.names
    owner = ".".join(parts[:-1])
    return owner in module.classes and parts[-1] in module.classes[owner]


def _targets(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _classes(body: list[ast.stmt], prefix: str, into: dict[str, set[str]]) -> None:
    for node in body:
        if isinstance(node, ast.ClassDef):
            name = f"{prefix}{node.name}"
            into[name] = {t for member in node.body for t in _targets(member)}
            _classes(node.body, f"{name}.", into)


@functools.cache
def code() -> Code:
    modules: dict[str, Module] = {}
    strings: set[str] = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            tree = ast.parse(path.read_text())
            module = modules.setdefault(dotted, Module())
            module.names |= {t for node in tree.body for t in _targets(node)}
            _classes(tree.body, "", module.classes)
            strings |= {
                n.value
                for n in ast.walk(tree)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            }
    return Code(modules, strings)


def spans(text: str) -> list[str]:
    return _SPAN.findall(text)


def missing_path(span: str, folders: tuple[str, ...] = ()) -> str | None:
    """Why the file or folder `span` names is not in the checkout (None: it is there, or
    `span` names no file). A path with a slash inside is from the checkout's root; a bare
    name (`outbox.py`, `settings/`) is looked for in `folders`, else anywhere in the code
    and the tests (`compose.yml`: at the root)."""
    if not _PATH.fullmatch(span) or span.startswith("/") or ".venv" in span:
        return None
    if "/" in span.rstrip("/"):
        return None if (ROOT / span).exists() else f"{span}: no such file or folder"
    if not span.endswith((*_FILE_SUFFIXES, "/")):
        return None
    if any((ROOT / folder / span).exists() for folder in folders):
        return None
    if folders and span.endswith(".py"):
        return f"{span}: not in {', '.join(folders)}"
    if (ROOT / span).exists():
        return None
    places = (*PACKAGES, "tests", "bench")
    if any(any((ROOT / place).rglob(span.rstrip("/"))) for place in places):
        return None
    return f"{span}: no such file"


def bare_paths(text: str) -> list[str]:
    """Paths written outside code spans (`see tests/e2e/test_x.py`)."""
    return _BARE_PATH.findall(text)


def missing_name(span: str) -> str | None:
    """Why `span`, a dotted name or a name in capitals, is not the code's (None: it is,
    or `span` is neither)."""
    if span in EXTERNAL or span.endswith(_FILE_SUFFIXES):
        return None
    if _DOTTED.fullmatch(span):
        return None if code().has(span) else f"{span}: defined by no module of ours"
    if _CAPITALS.fullmatch(span):
        if span.lower() in Settings.model_fields or code().defines(span):
            return None
        return f"{span}: neither a setting nor a constant of ours"
    return None


def missing_metric(name: str) -> str | None:
    """A Prometheus metric of ours (a counter, written with or without `_total`)."""
    if name in code().strings or name.removesuffix("_total") in code().strings:
        return None
    return f"{name}: no metric of that name"


def metrics(text: str) -> list[str]:
    return sorted(set(_METRIC.findall(text)))
