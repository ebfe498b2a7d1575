"""The HTTP edge's settings: the listener, the roles, auth, CORS, password hashing and
rate limiting."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode

from service.settings.lists import CommaList, split_commas
from service.settings.secret_key import check_secret_key


class Role(StrEnum):
    """What one service process does; each can run alone so roles scale apart."""

    API = "api"
    WORKER = "worker"  # the Temporal worker: OrderWorkflow and its activities
    RELAY = "relay"  # outbox -> Temporal
    CONSUMER = "consumer"  # RabbitMQ new_order -> Celery process_order


class EdgeSettings(BaseSettings):
    # HTTP (unset host: every interface with the API role, else loopback: Settings.listen_host)
    http_host: str | None = None
    http_port: int = Field(8000, ge=1, le=65535)
    # A request must arrive in full (header and body) this long after its first byte.
    http_read_timeout_seconds: float = Field(15.0, gt=0)
    service_roles: Annotated[frozenset[Role], NoDecode] = frozenset(Role)

    # Auth
    secret_key: SecretStr
    access_token_expire_minutes: int = Field(30, ge=1)
    jwt_issuer: str = "orders"
    jwt_audience: str = "orders-api"

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
    rate_limit_enabled: bool = True  # the general and the order-creation buckets
    rate_limit_capacity: int = Field(100, ge=1)
    rate_limit_refill_rate: float = Field(50.0, gt=0)
    order_create_rate_limit_capacity: int = Field(20, ge=1)  # per user, POST /orders/
    order_create_rate_limit_refill_rate: float = Field(5.0, gt=0)
    auth_rate_limit_capacity: int = Field(10, ge=1)  # the strict credentials buckets
    auth_rate_limit_refill_rate: float = Field(0.2, gt=0)
    auth_failure_rate_limit_capacity: int = Field(50, ge=1)  # failed logins, looser
    auth_failure_rate_limit_refill_rate: float = Field(0.2, gt=0)
    rate_limit_key_prefix: str = Field("ratelimit", min_length=1)
    trusted_proxies: Annotated[
        tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...], NoDecode
    ] = ()
    rate_limit_ipv6_prefix: int = Field(64, ge=1, le=128)  # an IPv6 client is its /64
    # Open (PENDING) orders a user may have at once; 0: no cap.
    max_pending_orders_per_user: int = Field(100, ge=0)

    _split_lists = field_validator(
        "cors_allow_origins",
        "cors_allow_methods",
        "cors_allow_headers",
        "trusted_proxies",
        mode="before",
    )(split_commas)

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr) -> SecretStr:
        check_secret_key(value.get_secret_value())
        return value

    @field_validator("service_roles", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> Any:
        return frozenset(split_commas(value)) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self) -> Self:
        if self.cors_allow_credentials and "*" in self.cors_allow_origins:
            raise ValueError(
                "CORS_ALLOW_CREDENTIALS cannot be true while CORS_ALLOW_ORIGINS contains '*'"
            )
        return self
