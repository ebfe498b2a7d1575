"""Settings from the environment: bad values stop start-up naming the variable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from service.settings import ConfigError, Role, load_settings
from service.settings.pipeline import PUBLISH_ATTEMPT_SECONDS
from tests.support.settings import TEST_SECRET_KEY as SECRET
from tests.support.settings import only_required_env, refused
from workflows.policies import ACTIVITY_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    only_required_env(monkeypatch, tmp_path)
    return monkeypatch


def test_defaults_load() -> None:
    settings = load_settings()
    assert settings.secret_key.get_secret_value() == SECRET
    assert settings.access_token_expire_minutes == 30
    assert settings.rabbitmq_new_order_queue == "new_order"
    assert settings.temporal_address == "localhost:7233"
    assert settings.temporal_namespace == "default"
    assert settings.redis_orders_ttl_seconds == 300
    assert settings.cors_allow_origins == ()
    assert settings.dsn == "postgresql://postgres@localhost:5432/orders"


def test_short_secret_key_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refused(monkeypatch, SECRET_KEY="x" * 31)
    assert "SECRET_KEY: must be at least 32 characters long" in message
    assert "x" * 31 not in message  # the secret itself is never printed


def test_the_example_secret_key_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    example = next(
        line.split("=", 1)[1]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.startswith("SECRET_KEY=")
    )
    message = refused(monkeypatch, SECRET_KEY=example)
    assert "SECRET_KEY: is the .env.example placeholder" in message
    assert example not in message


def test_hardening_defaults() -> None:
    settings = load_settings()
    assert settings.rate_limit_enabled is True
    assert (settings.rate_limit_capacity, settings.rate_limit_refill_rate) == (100, 50)
    assert settings.db_statement_timeout_seconds < settings.db_command_timeout_seconds
    assert settings.trusted_proxies == ()


def test_trusted_proxies_are_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1,::1")
    assert [str(n) for n in load_settings().trusted_proxies] == [
        "10.0.0.0/8",
        "192.0.2.1/32",
        "::1/128",
    ]
    assert "TRUSTED_PROXIES" in refused(monkeypatch, TRUSTED_PROXIES="10.0.0.0/8,not-an-ip")


def test_empty_rabbitmq_password_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "RABBITMQ_PASSWORD: must not be empty" in refused(monkeypatch, RABBITMQ_PASSWORD="")


def test_missing_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings()


def test_malformed_database_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "DATABASE_URL" in refused(monkeypatch, DATABASE_URL="not a url")


def test_database_url_wins_over_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example:6543/orders")
    monkeypatch.setenv("POSTGRES_HOST", "ignored")
    assert load_settings().dsn == "postgresql://u:p@db.example:6543/orders"


def test_bad_number_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "REDIS_PORT" in refused(monkeypatch, REDIS_PORT="sixty")
    monkeypatch.setenv("REDIS_PORT", "6379")
    assert "ACCESS_TOKEN_EXPIRE_MINUTES" in refused(monkeypatch, ACCESS_TOKEN_EXPIRE_MINUTES="0")


def test_cors_wildcard_with_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refused(monkeypatch, CORS_ALLOW_ORIGINS="*", CORS_ALLOW_CREDENTIALS="true")
    assert "CORS_ALLOW_CREDENTIALS" in message
    assert "CORS_ALLOW_ORIGINS" in message


def test_cors_wildcard_without_credentials_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "*")
    assert load_settings().cors_allow_origins == ("*",)


def test_comma_separated_lists_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://a.example, https://b.example,")
    monkeypatch.setenv("CORS_ALLOW_METHODS", "GET,POST")
    monkeypatch.setenv("CORS_ALLOW_HEADERS", " Authorization ,Content-Type")
    monkeypatch.setenv("SERVICE_ROLES", "api, worker")
    settings = load_settings()
    assert settings.cors_allow_origins == ("https://a.example", "https://b.example")
    assert settings.cors_allow_methods == ("GET", "POST")
    assert settings.cors_allow_headers == ("Authorization", "Content-Type")
    assert settings.service_roles == frozenset({Role.API, Role.WORKER})


def test_unknown_role_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "SERVICE_ROLES" in refused(monkeypatch, SERVICE_ROLES="api,chef")


def test_settings_are_immutable() -> None:
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.http_port = 1  # type: ignore[misc]  # the point: assignment is refused


def test_the_reliability_settings_default_and_read_days(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load_settings()
    assert defaults.processing_timeout == timedelta(minutes=5)
    assert defaults.temporal_retention == timedelta(days=30)
    assert defaults.outbox_retention == timedelta(days=7)
    assert defaults.outbox_max_attempts == 1440
    monkeypatch.setenv("TEMPORAL_RETENTION", "90d")  # as compose.yml passes it
    monkeypatch.setenv("PROCESSING_TIMEOUT", "PT30S")
    settings = load_settings()
    assert settings.temporal_retention == timedelta(days=90)
    assert settings.processing_timeout == timedelta(seconds=30)


def test_a_duration_that_is_not_positive_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "PROCESSING_TIMEOUT must be positive" in refused(monkeypatch, PROCESSING_TIMEOUT="PT0S")


def test_a_processing_lease_shorter_than_the_work_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = refused(monkeypatch, PROCESS_ORDER_LEASE_SECONDS="2", PROCESS_ORDER_SECONDS="2")
    assert "PROCESS_ORDER_LEASE_SECONDS must exceed PROCESS_ORDER_SECONDS" in message


def test_a_relay_lease_shorter_than_a_hand_off_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refused(monkeypatch, RELAY_LEASE_SECONDS="10", TEMPORAL_TIMEOUT_SECONDS="10")
    assert "RELAY_LEASE_SECONDS must exceed TEMPORAL_TIMEOUT_SECONDS" in message


def test_a_publish_that_waits_for_rabbitmq_must_fit_its_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings()
    assert settings.publish_broker_wait.total_seconds() == 15
    assert (settings.publish_max_waiting, settings.temporal_max_activities) == (40, 50)
    message = refused(monkeypatch, PUBLISH_BROKER_WAIT="20s", RABBITMQ_TIMEOUT_SECONDS="10")
    assert "PUBLISH_BROKER_WAIT plus RABBITMQ_TIMEOUT_SECONDS must stay under" in message
    message = refused(monkeypatch, PUBLISH_BROKER_WAIT="5s", TEMPORAL_MAX_ACTIVITIES="40")
    assert "PUBLISH_MAX_WAITING must stay below TEMPORAL_MAX_ACTIVITIES" in message
    assert "must be positive" in refused(monkeypatch, RABBITMQ_RECONNECT_INTERVAL="0")
    assert timedelta(seconds=PUBLISH_ATTEMPT_SECONDS) == ACTIVITY_TIMEOUT


def test_the_worker_runs_without_the_sandbox_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().workflow_sandbox is False
    monkeypatch.setenv("WORKFLOW_SANDBOX", "true")
    assert load_settings().workflow_sandbox is True


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("20", timedelta(seconds=20)),  # plain seconds, as every *_SECONDS setting
        ("2.5", timedelta(seconds=2.5)),
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("24h", timedelta(hours=24)),
        ("30d", timedelta(days=30)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d 12h", timedelta(days=1, hours=12)),
        ("500ms", timedelta(milliseconds=500)),
        ("PT20S", timedelta(seconds=20)),  # ISO 8601
        ("PT24H", timedelta(hours=24)),
        ("P30D", timedelta(days=30)),
        ("P1DT12H", timedelta(days=1, hours=12)),
    ],
)
@pytest.mark.parametrize(
    "name", ["PAYMENT_TIMEOUT", "PROCESSING_TIMEOUT", "TEMPORAL_RETENTION", "OUTBOX_RETENTION"]
)
def test_every_duration_setting_takes_every_spelling(
    monkeypatch: pytest.MonkeyPatch, name: str, spelling: str, expected: timedelta
) -> None:
    monkeypatch.setenv(name, spelling)
    assert getattr(load_settings(), name.lower()) == expected


@pytest.mark.parametrize("bad", ["twenty", "20x", "5 minutes", "P", "PT", "1h-5m", "", "m5"])
def test_a_bad_duration_names_the_variable_and_the_accepted_forms(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    message = refused(monkeypatch, PROCESSING_TIMEOUT=bad)
    assert "PROCESSING_TIMEOUT:" in message
    for form in ("seconds", "20", "5m", "ISO 8601", "PT5M"):
        assert form in message, message


def test_the_operator_listener_defaults_to_loopback_beside_the_http_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings()
    assert (settings.operator_host, settings.operator_listen_port) == ("127.0.0.1", 9000)
    assert settings.metrics_public is True
    assert settings.celery_metrics_host == "127.0.0.1"
    monkeypatch.setenv("HTTP_PORT", "8001")
    assert load_settings().operator_listen_port == 9001
    monkeypatch.setenv("OPERATOR_PORT", "9500")
    assert load_settings().operator_listen_port == 9500
    monkeypatch.setenv("OPERATOR_PORT", "0")
    assert load_settings().operator_listen_port is None  # off


def test_an_operator_port_that_cannot_be_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "OPERATOR_PORT" in refused(monkeypatch, HTTP_PORT="65000")
    monkeypatch.setenv("HTTP_PORT", "8000")
    assert "OPERATOR_PORT must differ from HTTP_PORT" in refused(monkeypatch, OPERATOR_PORT="8000")


def test_only_a_process_serving_the_api_listens_on_every_interface_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().listen_host == "0.0.0.0"  # all roles, the API among them
    monkeypatch.setenv("SERVICE_ROLES", "worker,relay,consumer")
    assert load_settings().listen_host == "127.0.0.1"
    monkeypatch.setenv("HTTP_HOST", "0.0.0.0")
    assert load_settings().listen_host == "0.0.0.0"  # unless configured
