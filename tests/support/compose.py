"""Compose files read as Docker would, without Docker: the Compose Specification's schema
(vendored by the check-jsonschema package), `${VAR}` interpolation, and what each service
runs (`orders serve` roles, the dev server's dynamic config)."""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Mapping
from typing import Any

import jsonschema
import orjson

from service.settings import Role

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}; $$ is a dollar.
_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)
_DYNAMIC_CONFIG = re.compile(r"--dynamic-config-value[= ]+([A-Za-z0-9_.]+)=([A-Za-z0-9_.-]+)")


def compose_schema() -> dict[str, Any]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = orjson.loads(vendor.joinpath("compose-spec.json").read_bytes())
    return schema


def schema_errors(document: Mapping[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(compose_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    return [f"{list(e.path)}: {e.message}" for e in errors]


class MissingVariable(LookupError):
    """A `${VAR:?message}` whose variable is unset: Docker refuses the file with the message."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """`value` (a parsed Compose document or any part of it) as Docker reads it with `env`."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: _substitute(m, env), value)
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    return value


def _substitute(match: re.Match[str], env: Mapping[str, str]) -> str:
    if match.group(0) == "$$":
        return "$"
    name, op, arg = match.group("name"), match.group("op"), match.group("arg")
    value = env.get(name)
    unset = value is None or (value == "" and op is not None and op.startswith(":"))
    if op is None or not unset:
        return value or ""
    if op.endswith("?"):
        raise MissingVariable(f"{name}: {arg}")
    return arg


def strings(value: Any) -> list[str]:
    """Every string of a parsed document (keys and values), comments being gone."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def _variables(document: Any, op_ends: str) -> dict[str, str]:
    return {
        m.group("name"): m.group("arg")
        for text in strings(document)
        for m in _VARIABLE.finditer(text)
        if (m.group("op") or "").endswith(op_ends)
    }


def required_variables(document: Any) -> set[str]:
    """The variables a Compose document refuses to run without (`${VAR:?...}`)."""
    return set(_variables(document, "?"))


def defaulted_variables(document: Any) -> dict[str, str]:
    """`${VAR:-default}`: each variable given a default, and that default."""
    return _variables(document, "-")


def command(service: Mapping[str, Any]) -> list[str]:
    found = service.get("command") or []
    return found.split() if isinstance(found, str) else [str(part) for part in found]


def serve_roles(service: Mapping[str, Any]) -> frozenset[Role] | None:
    """The roles an `orders serve` service runs (--roles, else SERVICE_ROLES, else all of
    them, as `orders serve` decides); None for a service that runs something else."""
    args = command(service)
    if not args or args[0] != "serve":
        return None
    listed = None
    for i, arg in enumerate(args):
        if arg == "--roles":
            listed = args[i + 1]
        elif arg.startswith("--roles="):
            listed = arg.split("=", 1)[1]
    listed = listed or (service.get("environment") or {}).get("SERVICE_ROLES")
    if not listed:
        return frozenset(Role)
    return frozenset(Role(role.strip()) for role in listed.split(","))


def dynamic_config(text: str) -> dict[str, str]:
    """The dev server's `--dynamic-config-value KEY=VALUE` flags found in `text`."""
    return dict(_DYNAMIC_CONFIG.findall(text))


def health_problems(services: Mapping[str, Any], name: str) -> list[str]:
    """What keeps the service `name` from being health-checked or a one-shot job that its
    dependents wait to complete. Ours (built here) inherit the Dockerfile's HEALTHCHECK."""
    service = services[name]
    check = service.get("healthcheck", {})
    if check.get("disable"):
        problems = [
            f"{dependent} does not wait for {name} to complete"
            for dependent, spec in services.items()
            if (how := (spec.get("depends_on") or {}).get(name)) is not None
            and how["condition"] != "service_completed_successfully"
        ]
        if service.get("restart") != "no":
            problems.append(f"{name}: no healthcheck, yet not a one-shot job")
        return problems
    if "build" not in service and not check.get("test"):
        return [f"{name} has no healthcheck"]
    return []


def dependency_problems(services: Mapping[str, Any], name: str) -> list[str]:
    """Each dependency of `name` a known service, waited for healthy or completed."""
    depends = services[name].get("depends_on", {})
    if not isinstance(depends, dict):
        return [f"{name}: depends_on without conditions"]
    return [
        f"{name} -> {dependency}: {how.get('condition')}"
        for dependency, how in depends.items()
        if dependency not in services
        or how.get("condition") not in {"service_healthy", "service_completed_successfully"}
    ]
