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


@pytest.mark.parametrize("usecase", [Accounts, IdempotentOrders])
def test_the_pool_acquire_timeout_has_no_default_of_its_own(usecase: type) -> None:
    parameter = inspect.signature(usecase).parameters["acquire_timeout"]
    assert parameter.default is inspect.Parameter.empty


def test_orders_without_a_timeout_wait_as_long_as_the_pool_does() -> None:
    """Not a second 2 s: DB_ACQUIRE_TIMEOUT_SECONDS is the service's, passed in."""
    assert inspect.signature(Orders).parameters["acquire_timeout"].default is None


def test_the_worker_falls_back_on_the_settings_defaults() -> None:
    runner = inspect.signature(service.worker.WorkerRunner).parameters
    assert runner["connect_timeout"].default == setting_default("temporal_timeout_seconds")
    assert runner["workflow_cache"].default == setting_default("temporal_workflow_cache")


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


# The one home of each broker's and store's transport errors, and the modules that still
# spell their own (issue 18 item 1 rewrites the consumer).
TRANSPORT_ERRORS: dict[str, tuple[set[str], set[str]]] = {
    "RedisError": ({"store/redis_failures.py"}, set()),
    "AMQPError": ({"messaging/failures.py"}, set()),
}


@pytest.mark.parametrize("error", sorted(TRANSPORT_ERRORS))
def test_one_tuple_of_transport_errors(error: str) -> None:
    home, pending = TRANSPORT_ERRORS[error]
    spelled = {path for path, text in product_sources().items() if error in text}
    assert spelled - pending == home


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
