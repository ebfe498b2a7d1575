"""compose.yml, checked without Docker: valid against the Compose Specification's JSON schema
(vendored by the check-jsonschema package), loopback-only ports, pinned images, every service
healthy before its dependents start, the relay beside a worker and the dev server's dynamic
config (eager start), and everything the docs name present."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from service.settings import Role
from tests.support.compose import (
    command,
    compose_schema,
    dependency_problems,
    dynamic_config,
    health_problems,
    serve_roles,
)
from workflows.probe import EAGER_ACTIVITIES, EAGER_WORKFLOW_START

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCS = (ROOT / "docs" / "operations.md").read_text() + (ROOT / "README.md").read_text()


def test_compose_file_follows_the_compose_specification() -> None:
    schema = compose_schema()
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(COMPOSE), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_the_schema_check_can_fail() -> None:
    broken = {**COMPOSE, "services": {"api": {"ports": "8000"}}}
    assert list(jsonschema.Draft202012Validator(compose_schema()).iter_errors(broken))


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_published_port_is_bound_to_loopback(name: str) -> None:
    for port in SERVICES[name].get("ports", []):
        assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_images_are_pinned(name: str) -> None:
    image = SERVICES[name].get("image", "")
    if "build" in SERVICES[name]:
        return  # our own image, built from the Dockerfile
    repository, _, tag = image.rpartition(":")
    assert repository, f"{name}: {image!r} has no tag"
    assert tag != "latest", f"{name}: {image!r} is not pinned"
    assert re.match(r"\d+\.\d+", tag), f"{name}: {image!r} names no minor version"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_is_health_checked_or_a_one_shot_job(name: str) -> None:
    assert health_problems(SERVICES, name) == []


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_dependency_has_a_condition(name: str) -> None:
    assert dependency_problems(SERVICES, name) == []


def test_every_port_the_docs_name_is_published() -> None:
    published = {str(p).rsplit(":", 2)[-2] for s in SERVICES.values() for p in s.get("ports", [])}
    named = set(re.findall(r"http://localhost:(\d+)", COMPOSE_TEXT.split("name:", 1)[0]))
    assert named, "the header names no URL"
    assert named <= published


def test_every_variable_the_docs_require_is_read() -> None:
    required = {"SECRET_KEY", "POSTGRES_PASSWORD", "RABBITMQ_PASSWORD"}
    assert all(var in DOCS for var in required)
    for var in required:
        assert re.search(r"\$\{" + var + r":\?", COMPOSE_TEXT), f"{var} is not required"


def test_settings_a_person_may_change_come_from_the_shell_first() -> None:
    """A `${VAR:-default}` lets an exported variable win over compose's .env file."""
    env = COMPOSE["x-orders"]["environment"]
    for var in ("PROCESS_ORDER_SECONDS", "CORS_ALLOW_ORIGINS", "LOG_LEVEL"):
        assert env[var].startswith("${" + var), var


def test_the_namespace_is_set_up_by_the_services_own_command() -> None:
    """`orders temporal setup` from our image, as temporal-dev/start.sh runs it: the search
    attributes come from workflows/names.py, never listed again here."""
    setup = SERVICES["temporal-setup"]
    assert "build" in setup
    assert setup["command"][:2] == ["temporal", "setup"]
    assert setup["depends_on"]["temporal"]["condition"] == "service_healthy"
    assert "search-attribute" not in COMPOSE_TEXT
    for name in ("api", "worker"):
        depends = SERVICES[name]["depends_on"]["temporal-setup"]
        assert depends["condition"] == "service_completed_successfully"


def test_the_relay_runs_beside_a_worker() -> None:
    """Eager workflow start: the relay starts a workflow through the client of a worker in
    its own process (workflows/starter.py, `worker_client`), whose first task then comes
    back in the start's answer. A relay alone pays the poll round trip on every order."""
    relays = {
        name: roles
        for name, service in SERVICES.items()
        if (roles := serve_roles(service)) is not None and Role.RELAY in roles
    }
    assert relays, "no service runs the relay"
    for name, roles in relays.items():
        assert Role.WORKER in roles, f"{name} runs the relay without a worker: no eager start"


def test_every_role_runs_somewhere() -> None:
    served = set().union(*(serve_roles(s) or frozenset() for s in SERVICES.values()))
    assert served == set(Role)


def test_the_dev_server_has_the_dynamic_config_eager_start_needs() -> None:
    flags = dynamic_config(" ".join(command(SERVICES["temporal"])))
    assert flags.get(EAGER_WORKFLOW_START) == "true"
    assert flags.get(EAGER_ACTIVITIES) == "true"
