"""One typed, immutable settings object, built once from the environment (and `.env`).

`load_settings()` is the only reader of the environment; a bad value refuses start-up
with a message that names the variable.
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import (
    Field,
    PostgresDsn,
    RedisDsn,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Role(StrEnum):
    """What one service process does; each can run alone so roles scale apart."""

    API = "api"
    WORKER = "worker"  # the Temporal worker: OrderWorkflow and its activities
    RELAY = "relay"  # outbox -> Temporal
    CONSUMER = "consumer"  # RabbitMQ new_order -> Celery process_order


MIN_SECRET_KEY_LENGTH = 32
# Estimated bits (below): random keys of 32 characters or more score 90+ even in hex
# (`openssl rand -hex 16`), while a repeated character, word or pattern scores far less.
MIN_SECRET_KEY_BITS = 80
# .env.example's placeholder: public, so a token signed with it proves nothing.
EXAMPLE_SECRET_KEY = "change-me-to-a-random-string-of-at-least-32-characters"


def estimated_bits(secret: str) -> float:
    """A Shannon estimate of the secret's entropy: bits per character times the length of
    its shortest repeating unit ("passwordpassword..." counts as "password")."""
    if not secret:
        return 0.0
    unit = next(
        n for n in range(1, len(secret) + 1) if secret == (secret[:n] * len(secret))[: len(secret)]
    )
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_char * unit


CommaList = Annotated[tuple[str, ...], NoDecode]


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    # HTTP
    http_host: str = "0.0.0.0"
    http_port: int = Field(8000, ge=1, le=65535)
    service_roles: Annotated[frozenset[Role], NoDecode] = frozenset(Role)
    log_level: str = "INFO"
    log_format: str = Field("text", pattern="^(text|json)$")
    # glibc malloc (service/memory.py; 0: glibc's default): arenas per process (glibc: 8
    # per core), and a fixed threshold above which blocks are mmapped and given back when
    # freed (glibc: 128 KiB, raised by each free up to 32 MiB, which keeps them).
    malloc_arena_max: int = Field(2, ge=0)
    malloc_mmap_threshold: int = Field(1024 * 1024, ge=0, le=32 * 1024 * 1024)

    # Auth
    secret_key: SecretStr
    access_token_expire_minutes: int = Field(30, ge=1)
    jwt_issuer: str = "orders"
    jwt_audience: str = "orders-api"

    # PostgreSQL
    database_url: PostgresDsn | None = None
    postgres_host: str = "localhost"
    postgres_port: int = Field(5432, ge=1, le=65535)
    postgres_db: str = "orders"
    postgres_user: str = "postgres"
    postgres_password: SecretStr = SecretStr("")
    db_pool_min_size: int = Field(2, ge=1)
    db_pool_max_size: int = Field(10, ge=1)
    db_command_timeout_seconds: float = Field(10.0, gt=0)
    db_statement_timeout_seconds: float = Field(5.0, gt=0)
    db_acquire_timeout_seconds: float = Field(2.0, gt=0)
    run_migrations_on_startup: bool = False

    # Redis (cache, and Celery's broker by default)
    redis_host: str = "localhost"
    redis_port: int = Field(6379, ge=1, le=65535)
    redis_db: int = Field(0, ge=0)
    redis_orders_ttl_seconds: int = Field(300, ge=1)
    redis_timeout_seconds: float = Field(0.25, gt=0)
    celery_broker_url: RedisDsn | None = None
    celery_queue: str = Field("orders", min_length=1)
    # How `orders celery` runs process_order (its work is a sleep and one INSERT: I/O):
    # threads in the one process; prefork forks a child per slot, each ~80 MiB.
    celery_pool: str = Field("threads", pattern="^(threads|prefork|solo)$")

    # RabbitMQ
    rabbitmq_host: str = "localhost"
    rabbitmq_port: int = Field(5672, ge=1, le=65535)
    rabbitmq_user: str = "guest"
    rabbitmq_password: SecretStr
    rabbitmq_vhost: str = "/"
    rabbitmq_exchange: str = "orders"
    rabbitmq_new_order_queue: str = Field("new_order", min_length=1)
    rabbitmq_status_queue: str = Field("order_status_changed", min_length=1)
    rabbitmq_timeout_seconds: float = Field(10.0, gt=0)
    consumer_prefetch: int = Field(100, ge=1)

    # Temporal
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = Field("orders", min_length=1)
    temporal_timeout_seconds: float = Field(10.0, gt=0)
    # Workflows the worker keeps in memory (about 0.14 MiB each): an open order evicted
    # from it replays its history at its next signal or timer.
    temporal_workflow_cache: int = Field(2000, ge=0)
    payment_timeout: timedelta = timedelta(hours=24)
    # A workflow that published `new_order` and heard no `processed` for this long
    # publishes it again (same event id), then waits longer each time.
    processing_timeout: timedelta = timedelta(minutes=5)
    # How long the namespace keeps a closed workflow's history (temporal-dev/start.sh and
    # compose.yml apply it); past it, /history/ answers 410.
    temporal_retention: timedelta = timedelta(days=30)
    # Run the worker's workflows in the Temporal sandbox (off: about 4 times less of the
    # worker's CPU per workflow run; replays and the workflow's tests always use it).
    workflow_sandbox: bool = False

    # Metrics: the Temporal SDK's exporter on loopback (unset: a free port; 0: off), appended
    # to /metrics; the Celery worker's own endpoint (0: off).
    temporal_metrics_port: int | None = Field(None, ge=0, le=65535)
    celery_metrics_port: int = Field(9101, ge=0, le=65535)

    # Traces (service/tracing.py): off unless the collector's OTLP/HTTP base URL is set.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = Field("orders", min_length=1)

    # Relay and processing
    # The relay's window (relay/window.py): rows claimed and handed to Temporal at once,
    # between these bounds, halved when a batch's median hand-off takes more than both
    # the tolerance times the fastest seen and the target, or when one fails.
    relay_batch_size: int = Field(100, ge=1, le=1000)
    relay_min_batch_size: int = Field(8, ge=1, le=1000)
    relay_latency_tolerance: float = Field(2.0, gt=1.0)
    relay_latency_target_seconds: float = Field(0.25, ge=0)
    relay_poll_interval_seconds: float = Field(1.0, gt=0)
    # A row that failed more often is parked (1440: about a day at the 60 s backoff cap).
    outbox_max_attempts: int = Field(1440, ge=1)
    # Relayed and published rows older than this are deleted.
    outbox_retention: timedelta = timedelta(days=7)
    process_order_seconds: float = Field(2.0, ge=0)

    # CORS
    cors_allow_origins: CommaList = ()
    cors_allow_methods: CommaList = ("GET", "POST", "PATCH", "OPTIONS")
    cors_allow_headers: CommaList = ("Authorization", "Content-Type", "Idempotency-Key", "If-Match")
    cors_allow_credentials: bool = False

    # Password hashing (argon2id). The defaults are OWASP's floor; tests lower them.
    password_hash_memory_kib: int = Field(19 * 1024, ge=8)
    password_hash_time_cost: int = Field(2, ge=1)
    password_hash_workers: int = Field(2, ge=1, le=64)
    password_hash_queue: int = Field(32, ge=0)

    # Rate limiting (token buckets in Redis, in-process while Redis fails)
    rate_limit_enabled: bool = True
    rate_limit_capacity: int = Field(100, ge=1)
    rate_limit_refill_rate: float = Field(50.0, gt=0)
    auth_rate_limit_capacity: int = Field(10, ge=1)
    auth_rate_limit_refill_rate: float = Field(0.2, gt=0)
    rate_limit_key_prefix: str = Field("ratelimit", min_length=1)
    trusted_proxies: Annotated[
        tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...], NoDecode
    ] = ()

    _split_lists = field_validator(
        "cors_allow_origins",
        "cors_allow_methods",
        "cors_allow_headers",
        "trusted_proxies",
        mode="before",
    )(_split)

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret == EXAMPLE_SECRET_KEY or "change-me" in secret.lower():
            raise ValueError(
                "is the .env.example placeholder, which anyone can read: "
                "set a random one (python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if len(secret) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_KEY_LENGTH} characters long")
        if estimated_bits(secret) < MIN_SECRET_KEY_BITS:
            raise ValueError(
                f"has too little entropy (about {estimated_bits(secret):.0f} bits, "
                f"at least {MIN_SECRET_KEY_BITS} needed): use a random string"
            )
        return value

    @field_validator("otel_exporter_otlp_endpoint", mode="before")
    @classmethod
    def _http_url_or_unset(cls, value: Any) -> Any:
        if value == "":  # compose passes an unset variable as empty: tracing off
            return None
        if isinstance(value, str) and not value.startswith(("http://", "https://")):
            raise ValueError("must be an OTLP/HTTP base URL, e.g. http://127.0.0.1:4318")
        return value

    @field_validator("rabbitmq_password")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @field_validator("service_roles", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> Any:
        return frozenset(_split(value)) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self) -> Settings:
        if self.cors_allow_credentials and "*" in self.cors_allow_origins:
            raise ValueError(
                "CORS_ALLOW_CREDENTIALS cannot be true while CORS_ALLOW_ORIGINS contains '*'"
            )
        if self.db_pool_min_size > self.db_pool_max_size:
            raise ValueError("DB_POOL_MIN_SIZE must not exceed DB_POOL_MAX_SIZE")
        if self.db_statement_timeout_seconds > self.db_command_timeout_seconds:
            raise ValueError(
                "DB_STATEMENT_TIMEOUT_SECONDS must not exceed DB_COMMAND_TIMEOUT_SECONDS"
            )
        for name in ("processing_timeout", "temporal_retention", "outbox_retention"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name.upper()} must be positive")
        return self

    @property
    def dsn(self) -> str:
        """The PostgreSQL URL, from DATABASE_URL or the POSTGRES_* parts."""
        if self.database_url is not None:
            return str(self.database_url)
        password = self.postgres_password.get_secret_value()
        auth = quote(self.postgres_user, safe="")
        if password:
            auth += ":" + quote(password, safe="")
        return f"postgresql://{auth}@{self.postgres_host}:{self.postgres_port}/{self.postgres_db}"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/{self.redis_db}"

    @property
    def broker_url(self) -> str:
        return str(self.celery_broker_url) if self.celery_broker_url else self.redis_url

    @property
    def rabbitmq_url(self) -> str:
        user = quote(self.rabbitmq_user, safe="")
        password = quote(self.rabbitmq_password.get_secret_value(), safe="")
        vhost = quote(self.rabbitmq_vhost, safe="")
        return f"amqp://{user}:{password}@{self.rabbitmq_host}:{self.rabbitmq_port}/{vhost}"


class ConfigError(SystemExit):
    """Start-up refused: the message names each bad environment variable."""


def load_settings() -> Settings:
    try:
        return Settings()  # read from the environment
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "_".join(str(p) for p in err["loc"]).upper() or "configuration"
            lines.append(f"  {name}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None
