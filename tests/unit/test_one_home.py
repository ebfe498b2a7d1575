"""One home per concept (issue 18 item 3): a default lives in its setting alone, the edges'
config objects take the value the composition root passes; one reconnect policy; one
tuple of transport errors per broker and store; one typed app key per object, in the two
modules of keys."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest
from aiohttp import web

import api.keys
import core.backoff
import service.keys
import service.worker
from api.ratelimit import RateLimitConfig
from service.app import rate_limits
from service.settings import Settings, setting_default
from tests.support.settings import TEST_SECRET_KEY
from usecases.accounts import Accounts
from usecases.idempotency import IdempotentOrders
from usecases.orders import Orders
from workflows.inputs import order_input
from workflows.starter import TemporalHandoff

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = (
    *("core", "store", "usecases", "api", "workflows", "activities", "relay", "messaging"),
    *("processing", "service"),
)
KEY_MODULES = {"api/keys.py", "service/keys.py"}


def product_sources() -> dict[str, str]:
    return {
        path.relative_to(ROOT).as_posix(): path.read_text()
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def test_the_rate_limit_config_has_no_default_a_setting_holds() -> None:
    with_default = {
        f.name
        for f in dataclasses.fields(RateLimitConfig)
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    }
    assert with_default == {"known_client_ttl"}  # no setting for it


def test_the_rate_limits_are_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("RABBITMQ_PASSWORD", "guest")
    monkeypatch.setenv("RATE_LIMIT_CAPACITY", "7")
    monkeypatch.setenv("AUTH_FAILURE_RATE_LIMIT_REFILL_RATE", "0.5")
    config = rate_limits(Settings(secret_key=TEST_SECRET_KEY))
    assert (config.default.capacity, config.default.refill_rate) == (7, 50.0)
    assert config.failures.refill_rate == 0.5
    assert config.create.capacity == setting_default("order_create_rate_limit_capacity")


@pytest.mark.parametrize("usecase", [Accounts, IdempotentOrders, Orders])
def test_the_pool_acquire_timeout_has_no_default_of_its_own(usecase: type) -> None:
    """Not a second 2 s: DB_ACQUIRE_TIMEOUT_SECONDS is the service's, passed in."""
    parameter = inspect.signature(usecase).parameters["acquire_timeout"]
    assert parameter.default is inspect.Parameter.empty


@pytest.mark.parametrize("usecase", [IdempotentOrders, Orders])
def test_the_pending_cap_has_no_default_of_its_own(usecase: type) -> None:
    parameter = inspect.signature(usecase).parameters["max_pending"]
    assert parameter.default is inspect.Parameter.empty


def test_the_worker_falls_back_on_the_settings_defaults() -> None:
    runner = inspect.signature(service.worker.WorkerRunner).parameters
    assert runner["connect_timeout"].default == setting_default("temporal_timeout_seconds")
    assert runner["workflow_cache"].default == setting_default("temporal_workflow_cache")
    assert runner["sandboxed"].default == setting_default("workflow_sandbox")
    assert runner["promote"].default == setting_default("temporal_worker_promote")


def test_the_handoff_takes_the_processing_timeout_from_the_setting() -> None:
    """No default of its own: PROCESSING_TIMEOUT's value, passed in by the composition root.
    The workflow input's default (for inputs recorded without one) is the setting's."""
    fields = {f.name: f for f in dataclasses.fields(TemporalHandoff)}
    assert fields["processing_timeout"].default is dataclasses.MISSING
    decoded = order_input(
        {
            "order_id": "o",
            "event_id": "e",
            "event_json": "{}",
            "created_at": "2026-01-02T03:04:05+00:00",
            "user_id": 1,
            "payment_timeout_seconds": 60,
        }
    )
    assert decoded.processing_timeout_seconds == (
        setting_default("processing_timeout").total_seconds()
    )


def test_one_reconnect_policy() -> None:
    assert vars(service.worker)["RECONNECT"] is core.backoff.RECONNECT
    policies = [
        path
        for path, text in product_sources().items()
        if path != "core/backoff.py" and re.search(r"\bBackoffPolicy\(initial=", text)
    ]
    # The workflow's waits for `processed` grow from PROCESSING_TIMEOUT: a policy of the
    # order's, not a reconnect.
    assert set(policies) <= {"workflows/state.py", "workflows/legacy.py"}, policies


# Temporal's: a tuple of two or more of the errors its callers wait out. RPCError alone is
# caught in many places, to tell RPC status codes apart.
_TEMPORAL = r"(?:RPCError|RuntimeError|TimeoutError)"
TEMPORAL_TUPLE = rf"\(\s*{_TEMPORAL}\s*(?:,\s*{_TEMPORAL}\s*)+,?\s*\)"
# Where each broker's and store's transport errors are spelled (a pattern): their one home.
TRANSPORT_ERRORS: dict[str, tuple[str, str]] = {
    "redis": (r"\bRedisError\b", "store/redis_failures.py"),
    "rabbitmq": (r"\bAMQPError\b", "messaging/failures.py"),
    "temporal": (TEMPORAL_TUPLE, "workflows/client.py"),
}


@pytest.mark.parametrize("server", sorted(TRANSPORT_ERRORS))
def test_one_tuple_of_transport_errors(server: str) -> None:
    pattern, home = TRANSPORT_ERRORS[server]
    spelled = {path for path, text in product_sources().items() if re.search(pattern, text)}
    assert spelled == {home}


def test_the_temporal_pattern_sees_a_tuple_in_any_order() -> None:
    for tuple_ in ("(RuntimeError, TimeoutError)", "(TimeoutError,\n RPCError, RuntimeError,)"):
        assert re.search(TEMPORAL_TUPLE, f"except {tuple_} as exc:")
    assert not re.search(TEMPORAL_TUPLE, "except RPCError as exc:")


def test_app_keys_live_in_the_two_modules_of_keys() -> None:
    defining = {path for path, text in product_sources().items() if re.search(r"\bAppKey\(", text)}
    assert defining == KEY_MODULES


def test_one_app_key_per_object() -> None:
    keys = [
        value
        for module in (api.keys, service.keys)
        for value in vars(module).values()
        if isinstance(value, web.AppKey)
    ]
    names = [str(key._name).rpartition(".")[2] for key in keys]
    assert len(set(names)) == len(names), names
    types = [key._t for key in keys if key._t is not None]
    assert len(set(types)) == len(types), types
