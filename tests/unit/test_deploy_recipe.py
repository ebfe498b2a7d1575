"""deploy/, the production recipe, checked without Docker: the Compose Specification's schema,
exact image tags (Temporal's those of the dev server the suite runs against), health checks
and start order, no secret with a default, ports on loopback but the proxy's, the settings
each role reads, eager start (the relay beside a worker, the server's dynamic config), and
every configuration file beside it parsed and held to compose.yml: the proxy, Temporal,
RabbitMQ's policy, Prometheus's targets, Grafana's provisioning and every metric its
dashboard plots. What needs a Docker host is listed in docs/operations.md."""

from __future__ import annotations

import argparse
import ipaddress
import json
import mmap
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest
import temporalio.bridge
import yaml
from prometheus_client import REGISTRY

import api.metrics
import messaging.metrics
import processing.metrics
import relay.metrics
import store.cache
from messaging.topology import Topology
from service.commands.serve import with_overrides
from service.settings import Role, Settings, TemporalAdminSettings
from tests.support import temporal as dev_server
from tests.support.compose import (
    MissingVariable,
    command,
    defaulted_variables,
    dependency_problems,
    dynamic_config,
    health_problems,
    interpolate,
    required_variables,
    schema_errors,
    serve_roles,
)
from workflows.probe import EAGER_ACTIVITIES, EAGER_WORKFLOW_START

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TEXT = (DEPLOY / "compose.yml").read_text()
RAW: dict[str, Any] = yaml.safe_load(TEXT)
REQUIRED = required_variables(RAW)
# What an operator puts in deploy/.env: random secrets, an image of ours.
ENV = {name: secrets.token_urlsafe(32) for name in REQUIRED} | {
    "SECRET_KEY": secrets.token_urlsafe(48),
    "ORDERS_IMAGE": "registry.example.com/orders:1.4.2",
}
COMPOSE: dict[str, Any] = interpolate(RAW, ENV)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
# Ours: built from the repository's Dockerfile.
ORDERS = {name: service for name, service in SERVICES.items() if "build" in service}
REPLICATED = ("api", "pipeline", "consumer", "celery")
SECRET_NAME = re.compile(r"PASS|PWD|SECRET|_KEY$|TOKEN|AUTH")
# major.minor.patch; PostgreSQL's versions have two parts since 10 (16.15 is a patch release).
EXACT_TAG = re.compile(r"^v?\d+\.\d+\.\d+(-[a-z0-9.-]+)?$")
EXACT_POSTGRES_TAG = re.compile(r"^\d+\.\d+(-[a-z0-9.-]+)?$")


def config(relative: str) -> Any:
    return yaml.safe_load((DEPLOY / relative).read_text())


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Bind mounts of a service: the file or folder under deploy/ -> where it is mounted."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith("./"):
            found[source.removeprefix("./")] = target
    return found


def found(pattern: str, text: str) -> re.Match[str]:
    match = re.search(pattern, text, re.MULTILINE)
    assert match is not None, f"{pattern!r} not found"
    return match


def environment(name: str) -> dict[str, str]:
    return {k: str(v) for k, v in (SERVICES[name].get("environment") or {}).items()}


# --- Compose ------------------------------------------------------------------------------


def test_follows_the_compose_specification() -> None:
    assert not schema_errors(COMPOSE)


def test_refuses_to_start_without_its_secrets_and_the_example_lists_them() -> None:
    with pytest.raises(MissingVariable):
        interpolate(RAW, {})
    example = (DEPLOY / ".env.example").read_text()
    listed = dict(re.findall(r"^([A-Z_]+)=(.*)$", example, re.MULTILINE))
    assert set(listed) == REQUIRED
    assert not any(listed.values()), "deploy/.env.example gives a value"


def test_no_secret_has_a_default() -> None:
    assert not [name for name in defaulted_variables(RAW) if SECRET_NAME.search(name)]
    for name, service in RAW["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", str(value)), f"{name}: {key}={value}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_images_are_pinned_to_exact_versions(name: str) -> None:
    image = RAW["services"][name]["image"]
    if name in ORDERS:
        assert image.startswith("${ORDERS_IMAGE:?"), f"{name}: our image comes from ORDERS_IMAGE"
        return
    repository, _, tag = image.rpartition(":")
    assert repository, f"{name}: {image!r} has no tag"
    exact = EXACT_POSTGRES_TAG if repository == "postgres" else EXACT_TAG
    assert exact.match(tag), f"{name}: {image!r} is not an exact version"


def dev_server_versions() -> dict[str, str]:
    """The venv's temporal CLI: `temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)`."""
    out = subprocess.run(
        [dev_server.venv_bin("temporal"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    return dict(re.findall(r"(Server|UI) (\d+\.\d+\.\d+)", out))


def test_temporal_runs_the_versions_the_suite_tests_against() -> None:
    """The server (and its schema tool) and the UI of the dev server that every test and
    `make run` use: what was tested is what runs."""
    versions = dev_server_versions()
    tags = {name: SERVICES[name]["image"].rpartition(":")[2] for name in SERVICES}
    assert tags["temporal"] == versions["Server"]
    assert tags["temporal-schema"] == versions["Server"]
    assert tags["temporal-ui"] == versions["UI"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_ports_are_published_on_loopback_but_the_proxys(name: str) -> None:
    for port in SERVICES[name].get("ports", []):
        if name == "proxy":
            assert not str(port).startswith("127.0.0.1:")
        else:
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} everywhere"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_is_health_checked_or_a_one_shot_job(name: str) -> None:
    assert health_problems(SERVICES, name) == []


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_dependency_has_a_condition(name: str) -> None:
    assert dependency_problems(SERVICES, name) == []


def test_every_service_reaches_what_it_depends_on() -> None:
    def networks(name: str) -> set[str]:
        return set(SERVICES[name].get("networks") or ["default"])

    for name, service in SERVICES.items():
        for dependency in service.get("depends_on") or {}:
            assert networks(name) & networks(dependency), f"{name} cannot reach {dependency}"


# --- the roles and their settings -----------------------------------------------------------


def test_the_relay_runs_beside_a_worker() -> None:
    for name, service in ORDERS.items():
        roles = serve_roles(service)
        if roles is not None and Role.RELAY in roles:
            assert Role.WORKER in roles, f"{name} runs the relay without a worker: no eager start"


def test_every_role_runs_somewhere() -> None:
    served = set().union(*(serve_roles(s) or frozenset() for s in ORDERS.values()))
    assert served == set(Role)


@pytest.mark.parametrize("name", REPLICATED)
def test_the_roles_are_replicated(name: str) -> None:
    assert SERVICES[name]["deploy"]["replicas"] >= 2


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No variable of this shell reaches the settings: only the service's environment."""
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    return monkeypatch


def settings_of(name: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """What `orders` reads in that container: its environment, its command's overrides."""
    for key, value in environment(name).items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)
    args = command(SERVICES[name])
    if args and args[0] == "serve":
        roles = serve_roles(SERVICES[name])
        assert roles is not None
        settings = with_overrides(settings, argparse.Namespace(roles=",".join(sorted(roles))))
    return settings


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_every_orders_process_has_the_settings_it_needs(
    name: str, clean_environment: pytest.MonkeyPatch
) -> None:
    if command(SERVICES[name])[:2] == ["temporal", "setup"]:
        for key, value in environment(name).items():
            clean_environment.setenv(key, value)
        admin = TemporalAdminSettings(_env_file=None)
        assert admin.temporal_address.rsplit(":", 1)[0] == "temporal"
        return
    settings = settings_of(name, clean_environment)  # refuses a missing or bad value
    for host in (
        settings.postgres_host,
        settings.redis_host,
        settings.rabbitmq_host,
        settings.temporal_address.rsplit(":", 1)[0],
    ):
        assert host in SERVICES, f"{name} talks to {host}, which is no service here"
    assert settings.redis_password is not None
    assert settings.rabbitmq_queue_type == "quorum"
    assert not settings.metrics_public
    assert settings.operator_host == "0.0.0.0"


def test_every_role_declares_the_same_queue_type() -> None:
    """A queue keeps the type it was first declared with: all agree, or some fail."""
    assert {environment(name)["RABBITMQ_QUEUE_TYPE"] for name in ORDERS} == {"quorum"}


# --- the edge -------------------------------------------------------------------------------


HAPROXY = (DEPLOY / "haproxy" / "haproxy.cfg").read_text()


def test_the_proxy_sends_to_every_api_replica_and_checks_their_health() -> None:
    count, host, port = found(r"^\s*server-template \S+ (\d+) (\w+):(\d+)", HAPROXY).groups()
    assert host == "api"
    assert int(port) == int(environment("api")["HTTP_PORT"])
    assert int(count) >= SERVICES["api"]["deploy"]["replicas"]
    assert re.search(r"http-check send meth GET uri /health\s", HAPROXY)
    assert "resolvers docker" in HAPROXY
    assert "127.0.0.11:53" in HAPROXY  # Docker's DNS: the replicas as they come and go


def test_the_api_believes_x_forwarded_for_from_the_proxy_only() -> None:
    assert re.search(r"^\s*http-request set-header X-Forwarded-For %\[src\]", HAPROXY, re.M)
    proxy = ipaddress.ip_address(SERVICES["proxy"]["networks"]["edge"]["ipv4_address"])
    trusted = [ipaddress.ip_network(n) for n in environment("api")["TRUSTED_PROXIES"].split(",")]
    assert trusted == [ipaddress.ip_network(f"{proxy}/32")]
    [subnet] = [
        ipaddress.ip_network(c["subnet"]) for c in COMPOSE["networks"]["edge"]["ipam"]["config"]
    ]
    assert proxy in subnet
    on_edge = {name for name, s in SERVICES.items() if "edge" in (s.get("networks") or [])}
    assert on_edge == {"proxy", "api"}


def test_the_proxy_listens_where_it_is_published_and_checked() -> None:
    [published] = SERVICES["proxy"]["ports"]
    bind = found(r"frontend public\s+bind :(\d+)", HAPROXY)
    assert int(str(published).rsplit(":", 1)[1]) == int(bind.group(1))
    health = found(r"frontend health\s+bind :(\d+)\s+monitor-uri (\S+)", HAPROXY)
    url = f"http://127.0.0.1:{health.group(1)}{health.group(2)}"
    assert url in SERVICES["proxy"]["healthcheck"]["test"]


# --- Temporal -------------------------------------------------------------------------------


def test_the_server_has_the_dynamic_config_eager_start_needs() -> None:
    path = environment("temporal")["DYNAMIC_CONFIG_FILE_PATH"]
    folder, _, file = path.rpartition("/")
    assert mounts(SERVICES["temporal"])["temporal/dynamicconfig"].removesuffix(":ro") == folder
    values = config(f"temporal/dynamicconfig/{file}")
    for key, entries in values.items():
        assert all(set(entry) == {"value", "constraints"} for entry in entries), key
    for key in (EAGER_WORKFLOW_START, EAGER_ACTIVITIES):
        assert values[key] == [{"value": True, "constraints": {}}]


def test_the_dev_server_recipes_set_it_too() -> None:
    for source in (
        (ROOT / "temporal-dev" / "start.sh").read_text(),
        " ".join(dev_server.DEV_SERVER_ARGS),
        " ".join(
            command(yaml.safe_load((ROOT / "compose.yml").read_text())["services"]["temporal"])
        ),
    ):
        flags = dynamic_config(source)
        assert flags.get(EAGER_WORKFLOW_START) == "true"
        assert flags.get(EAGER_ACTIVITIES) == "true"


def test_the_server_keeps_history_and_visibility_in_postgresql() -> None:
    server = environment("temporal")
    assert server["DB"] == "postgres12"
    assert "ENABLE_ES" not in server  # visibility in SQL, not Elasticsearch
    assert server["POSTGRES_SEEDS"] == "temporal-postgres"
    assert int(server["NUM_HISTORY_SHARDS"]) >= 128  # fixed for the cluster's life
    schema = environment("temporal-schema")
    for key in ("POSTGRES_SEEDS", "POSTGRES_USER", "DBNAME", "VISIBILITY_DBNAME"):
        assert schema[key] == server[key], key
    assert schema["SQL_PASSWORD"] == server["POSTGRES_PWD"]
    script = (DEPLOY / "temporal" / "setup-schema.sh").read_text()
    assert "/etc/orders/setup-schema.sh" in SERVICES["temporal-schema"]["entrypoint"]
    assert mounts(SERVICES["temporal-schema"])["temporal/setup-schema.sh"].startswith(
        "/etc/orders/setup-schema.sh"
    )
    assert re.search(r"update-schema -d \"\$schema/\$kind/versioned\"", script)
    subprocess.run(["sh", "-n", str(DEPLOY / "temporal" / "setup-schema.sh")], check=True)


def test_the_namespace_is_set_up_by_the_services_own_command_before_the_roles_start() -> None:
    assert command(SERVICES["temporal-setup"])[:2] == ["temporal", "setup"]
    assert SERVICES["temporal-setup"]["depends_on"]["temporal"]["condition"] == "service_healthy"
    for name in ("api", "pipeline", "consumer"):
        how = SERVICES[name]["depends_on"]["temporal-setup"]["condition"]
        assert how == "service_completed_successfully"
    namespace = environment("api")["TEMPORAL_NAMESPACE"]
    assert environment("temporal-ui")["TEMPORAL_DEFAULT_NAMESPACE"] == namespace


# --- RabbitMQ and Redis ---------------------------------------------------------------------


def test_the_new_order_queue_dead_letters_to_its_dlq_past_a_raised_delivery_limit() -> None:
    policy = json.loads((DEPLOY / "rabbitmq" / "new-order-policy.json").read_text())
    queue = environment("consumer")["RABBITMQ_NEW_ORDER_QUEUE"]
    assert re.fullmatch(policy["pattern"], queue)
    assert policy["apply-to"] == "quorum_queues"
    definition = policy["definition"]
    assert definition["dead-letter-exchange"] == ""  # the default exchange: by queue name
    assert definition["dead-letter-routing-key"] == Topology("x", queue, "y").dlq
    assert definition["delivery-limit"] > 20  # RabbitMQ 4's default, too low for a requeue loop
    job = " ".join(command(SERVICES["rabbitmq-policy"]))
    assert (
        mounts(SERVICES["rabbitmq-policy"])["rabbitmq/new-order-policy.json"].split(":")[0] in job
    )
    assert f"login {environment('rabbitmq')['RABBITMQ_DEFAULT_USER']} " in job
    assert "http://rabbitmq:15672/api/policies/%2F/" in job


def test_rabbitmq_serves_its_metrics_where_prometheus_looks() -> None:
    plugins = (DEPLOY / "rabbitmq" / "enabled_plugins").read_text()
    assert re.fullmatch(r"\[[a-z_,]+\]\.\n", plugins)
    assert "rabbitmq_prometheus" in plugins
    conf = (DEPLOY / "rabbitmq" / "orders.conf").read_text()
    port = found(r"^prometheus\.tcp\.port = (\d+)$", conf).group(1)
    assert f"rabbitmq:{port}" in scrape_targets()


def test_redis_keeps_an_append_only_file_behind_a_password() -> None:
    args = command(RAW["services"]["redis"])
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--requirepass") + 1].startswith("${REDIS_PASSWORD:?")


# --- Prometheus and Grafana -----------------------------------------------------------------


PROMETHEUS = config("prometheus/prometheus.yml")


def scrape_targets() -> set[str]:
    """host:port of every target, each DNS name with its port."""
    found = set()
    for job in PROMETHEUS["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            found |= {f"{name}:{sd['port']}" for name in sd["names"]}
        for static in job.get("static_configs", []):
            found |= set(static["targets"])
    return found


def test_prometheus_scrapes_every_replica_of_every_role_where_it_serves_metrics(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    expected = set()
    for name in ORDERS:
        settings = settings_of(name, clean_environment)
        if command(SERVICES[name])[0] == "serve":
            expected.add(f"{name}:{settings.operator_listen_port}")
        elif command(SERVICES[name])[0] == "celery":
            assert settings.celery_metrics_host == "0.0.0.0"
            expected.add(f"{name}:{settings.celery_metrics_port}")
    server = environment("temporal")["PROMETHEUS_ENDPOINT"].rsplit(":", 1)[1]
    expected.add(f"temporal:{server}")
    assert expected <= scrape_targets()
    for target in scrape_targets():
        host = target.split(":")[0]
        assert host in SERVICES
        assert set(SERVICES[host]["networks"]) & set(SERVICES["prometheus"]["networks"])
        assert not any(
            str(p).endswith(f":{target.split(':')[1]}") for p in SERVICES[host].get("ports", [])
        )


GRAFANA = mounts(SERVICES["grafana"])
DASHBOARD = json.loads((DEPLOY / "grafana" / "dashboards" / "orders.json").read_text())


def test_grafana_provisions_the_prometheus_datasource_and_the_dashboard() -> None:
    [source] = config("grafana/provisioning/datasources/prometheus.yml")["datasources"]
    assert source["url"] == "http://prometheus:9090"
    assert "127.0.0.1:9090:9090" in SERVICES["prometheus"]["ports"]
    [provider] = config("grafana/provisioning/dashboards/orders.yml")["providers"]
    assert GRAFANA["grafana/dashboards"].removesuffix(":ro") == provider["options"]["path"]
    assert GRAFANA["grafana/provisioning"].removesuffix(":ro") == "/etc/grafana/provisioning"
    panels = [p for p in DASHBOARD["panels"] if p["type"] != "row"]
    assert panels
    for panel in panels:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"], panel["title"]


_LABELS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
_HISTOGRAM_SERIES = re.compile(r"_(bucket|sum|count)$")


def metric_names(expr: str) -> set[str]:
    """The series a PromQL expression reads: identifiers that are not functions,
    aggregations, keywords, label names or values, durations or Grafana's variables."""
    bare = re.sub(r"\$\w+", "", _GROUPING.sub("", _RANGE.sub("", _LABELS.sub("", expr))))
    names = set()
    for match in _IDENTIFIER.finditer(bare):
        if bare[match.end() :].lstrip().startswith("(") or match.group() in _KEYWORDS:
            continue
        names.add(match.group())
    return names


# Every module of ours that defines metrics: importing them registers them.
METRIC_MODULES = (api.metrics, relay.metrics, messaging.metrics, processing.metrics, store.cache)


def ours() -> set[str]:
    """Every series this code exports (the modules of METRIC_MODULES)."""
    names = set()
    for family in REGISTRY.collect():
        if family.type == "counter":
            names |= {f"{family.name}_total", f"{family.name}_created"}
        elif family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count", "created")}
        else:
            names.add(family.name)
    return names


class Binary:
    """A program's bytes, searched for a metric's name as its code spells it."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as file:
            self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)

    def defines(self, name: str) -> bool:
        return self._map.find(_HISTOGRAM_SERIES.sub("", name).encode()) >= 0


@pytest.fixture(scope="module")
def sdk() -> Binary:
    """The Temporal SDK's core (Rust), whose exporter prefixes its names with temporal_."""
    [bridge] = Path(temporalio.bridge.__file__).parent.glob("temporal_sdk_bridge*")
    return Binary(bridge)


@pytest.fixture(scope="module")
def server() -> Binary:
    """The dev server's binary: the server of the version the recipe runs (checked above)."""
    return Binary(Path(dev_server.venv_bin("temporal")))


def unknown_names(exprs: list[str], sdk: Binary, server: Binary) -> set[str]:
    unknown = set()
    exported = ours()
    for name in set().union(*(metric_names(e) for e in exprs)):
        if name.startswith("orders_"):
            known = name in exported
        elif name.startswith("temporal_"):
            known = sdk.defines(name.removeprefix("temporal_"))
        else:
            known = server.defines(name)
        if not known:
            unknown.add(name)
    return unknown


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in DASHBOARD["panels"] for t in p.get("targets", [])]


def test_every_series_the_dashboard_plots_is_one_that_is_exported(
    sdk: Binary, server: Binary
) -> None:
    exprs = dashboard_exprs()
    assert not unknown_names(exprs, sdk, server)
    plotted = set().union(*(metric_names(e) for e in exprs))
    assert {n for n in plotted if n.startswith("orders_")}, "none of the pipeline's own"
    assert {n for n in plotted if n.startswith("temporal_")}, "none of the Temporal SDK's"
    assert {n for n in plotted if not n.startswith(("orders_", "temporal_"))}, (
        "none of the server's"
    )


def test_the_series_check_can_fail(sdk: Binary, server: Binary) -> None:
    expr = (
        "histogram_quantile(0.99, sum by (le, route) "
        '(rate(orders_http_request_duration_seconds_bucket{route="/x"}[$__rate_interval])))'
    )
    assert metric_names(expr) == {"orders_http_request_duration_seconds_bucket"}
    typos = [
        "sum(rate(orders_http_request_total[5m]))",
        "temporal_workflow_task_schedule_to_start_latncy_bucket",
        "rate(service_requestz[1m])",
    ]
    assert unknown_names(typos, sdk, server) == {
        "orders_http_request_total",
        "temporal_workflow_task_schedule_to_start_latncy_bucket",
        "service_requestz",
    }


# --- every file beside compose.yml ----------------------------------------------------------


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(DEPLOY).as_posix() for p in DEPLOY.rglob("*.y*ml")), ids=str
)
def test_every_yaml_file_parses(path: str) -> None:
    assert config(path)


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(DEPLOY).as_posix() for p in DEPLOY.rglob("*.json")), ids=str
)
def test_every_json_file_parses(path: str) -> None:
    assert json.loads((DEPLOY / path).read_text())


def test_every_file_a_service_mounts_exists() -> None:
    for name, service in SERVICES.items():
        for source in mounts(service):
            assert (DEPLOY / source).exists(), f"{name} mounts {source}, which is not in deploy/"
