"""One typed, immutable settings object, built once from the environment (and `.env`).

`load(cls)` (`load_settings()` for the service) is the only reader of the environment; a
bad value refuses start-up with a message that names the variable. The variables are
grouped by concern, one module each (`edge`, `stores`, `temporal`, `pipeline`,
`observability`); `Settings` is all of them, flat, as the environment names them. A
command that needs only some of them (`orders temporal`) reads those alone
(`TemporalAdminSettings`), so it asks for no unrelated secret.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.settings.edge import EdgeSettings, Role
from service.settings.observability import ObservabilitySettings
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
]

S = TypeVar("S", bound=BaseSettings)


class Settings(
    EdgeSettings, StoreSettings, TemporalSettings, PipelineSettings, ObservabilitySettings
):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    @property
    def broker_url(self) -> str:
        """Celery's broker: CELERY_BROKER_URL, else the Redis of the cache."""
        return str(self.celery_broker_url) if self.celery_broker_url else self.redis_url


class ConfigError(SystemExit):
    """Start-up refused: the message names each bad environment variable."""


class TemporalAdminSettings(TemporalSettings, ObservabilitySettings):
    """What `orders temporal` reads: the cluster, logs; no database, broker or secret key."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )


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
