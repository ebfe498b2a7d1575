"""Building the settings at start-up, with an error that names the bad variable."""

from __future__ import annotations

from pydantic import ValidationError

from service.settings import Settings


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
