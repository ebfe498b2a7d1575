"""One typed, immutable settings object, built once from the environment (and `.env`).

`load(cls)` (`load_settings()` for the service) is the only reader of the environment; a
bad value refuses start-up with a message that names the variable. The variables are
grouped by concern, one module each (`edge`, `stores`, `temporal`, `pipeline`, `operator`,
`observability`); `Settings` is all of them, flat, as the environment names them. A
command that needs only some of them (`orders temporal`) reads those alone
(`TemporalAdminSettings`), so it asks for no unrelated secret.
"""

from __future__ import annotations

from typing import Any, Self, TypeVar

from pydantic import ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.settings.edge import EdgeSettings, Role
from service.settings.observability import ObservabilitySettings
from service.settings.operator import OPERATOR_PORT_OFFSET, OperatorSettings
from service.settings.pipeline import PipelineSettings
from service.settings.secret_key import EXAMPLE_SECRET_KEY
from service.settings.stores import StoreSettings
from service.settings.temporal import TemporalSettings

__all__ = [
    "EXAMPLE_SECRET_KEY",
    "ConfigError",
    "Role",
    "Settings",
    "TemporalAdminSettings",
    "load",
    "load_settings",
    "setting_default",
]

S = TypeVar("S", bound=BaseSettings)


class Settings(
    EdgeSettings,
    StoreSettings,
    TemporalSettings,
    PipelineSettings,
    ObservabilitySettings,
    OperatorSettings,
):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    @model_validator(mode="after")
    def _operator_port_fits(self) -> Self:
        port = self.operator_listen_port
        if port is not None and port > 65535:
            raise ValueError(
                f"OPERATOR_PORT: HTTP_PORT + {OPERATOR_PORT_OFFSET} is beyond 65535: set it"
            )
        if port == self.http_port:
            raise ValueError("OPERATOR_PORT must differ from HTTP_PORT")
        return self

    @property
    def listen_host(self) -> str:
        """HTTP_HOST; unset: every interface for a process serving the API, else loopback
        (the pipeline's listener answers /health, /ready and /metrics only)."""
        if self.http_host:
            return self.http_host
        return "0.0.0.0" if Role.API in self.service_roles else "127.0.0.1"

    @property
    def operator_listen_port(self) -> int | None:
        """OPERATOR_PORT, or the HTTP port + 1000 when unset; None when 0 (no listener)."""
        if self.operator_port is None:
            return self.http_port + OPERATOR_PORT_OFFSET
        return self.operator_port or None

    @property
    def broker_url(self) -> str:
        """Celery's broker: CELERY_BROKER_URL, else the Redis of the cache (its auth and TLS).

        A `rediss://` URL that does not say how to check the certificate gets
        `ssl_cert_reqs=required`: kombu's own default for it is not to check at all.
        """
        if not self.celery_broker_url:
            return self.redis_url
        url = str(self.celery_broker_url)
        if url.startswith("rediss://") and "ssl_cert_reqs=" not in url:
            url += ("&" if "?" in url else "?") + "ssl_cert_reqs=required"
        return url


class ConfigError(SystemExit):
    """Start-up refused: the message names each bad environment variable."""


class TemporalAdminSettings(TemporalSettings, ObservabilitySettings):
    """What `orders temporal` reads: the cluster, logs; no database, broker or secret key."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )


def setting_default(name: str) -> Any:
    """The default of the setting `name` (its field's name), for a parameter of the
    composition root that falls back on it when a test builds the piece alone: each
    default has one home, its setting."""
    return Settings.model_fields[name].get_default(call_default_factory=True)


def load_settings() -> Settings:
    return load(Settings)


def load(cls: type[S]) -> S:
    """`cls` read from the environment (and .env), or ConfigError naming each bad variable."""
    try:
        return cls()  # read from the environment
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "_".join(str(p) for p in err["loc"]).upper() or "configuration"
            lines.append(f"  {name}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None
