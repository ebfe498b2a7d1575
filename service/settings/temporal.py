"""The Temporal cluster: where it is, how to reach it safely, the namespace and its retention.

A local dev server takes none of the security settings. A self-hosted cluster behind TLS
takes TEMPORAL_TLS_CA (the CA that signed the server's certificate, when it is not a
public one) and, for mutual TLS, TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY; Temporal Cloud
takes TEMPORAL_API_KEY (or a client certificate). Each certificate or key setting is a
path to a PEM file or the PEM text itself; it is read and checked here, at start-up, so a
bad value fails start-up naming its variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

from service.settings.durations import Duration

PEM_MARKER = "-----BEGIN "


def pem_bytes(value: str) -> bytes:
    """The PEM text of a setting that is either the text itself or a path to a file."""
    if value.lstrip().startswith(PEM_MARKER):
        return value.encode()
    return Path(value).expanduser().read_bytes()


def _check_pem(value: str, *, key: bool) -> None:
    """ValueError, saying what is wrong, unless `value` holds a PEM certificate (or key). A
    key's value is never repeated: it may be the secret itself, pasted wrong."""
    inline = value.lstrip().startswith(PEM_MARKER)
    where = "the value" if inline or key else repr(value)
    try:
        text = pem_bytes(value).decode("ascii", errors="replace")
    except OSError as exc:
        raise ValueError(
            f"{where} is neither PEM text nor a readable file ({exc.strerror or exc})"
        ) from None
    if key and "ENCRYPTED PRIVATE KEY" in text:
        raise ValueError(f"{where} is an encrypted key: the client needs it unencrypted")
    wanted = "PRIVATE KEY-----" if key else f"{PEM_MARKER}CERTIFICATE-----"
    if PEM_MARKER not in text or wanted not in text:
        what = "private key" if key else "certificate"
        raise ValueError(f"{where} holds no PEM {what}")


class TemporalSettings(BaseSettings):
    temporal_address: str = Field("localhost:7233", min_length=1)
    temporal_namespace: str = Field("default", min_length=1)
    # How long the namespace keeps a closed workflow's history (`orders temporal setup`
    # applies it); past it, /history/ answers 410.
    temporal_retention: Duration = timedelta(days=30)

    # TLS: unset, on when any TLS setting or the API key is set; true alone: TLS with the
    # system's CAs; false: plaintext, and every TLS setting and the API key refused.
    temporal_tls: bool | None = None
    temporal_tls_ca: str | None = None  # a PEM file or text: the CA of the server's cert
    temporal_tls_cert: str | None = None  # mutual TLS: this client's certificate ...
    temporal_tls_key: SecretStr | None = None  # ... and its private key
    temporal_tls_server_name: str | None = None  # the name the server's cert must carry
    temporal_api_key: SecretStr | None = None  # Temporal Cloud's API key (sent over TLS)

    @field_validator(
        "temporal_tls",
        "temporal_tls_ca",
        "temporal_tls_cert",
        "temporal_tls_key",
        "temporal_tls_server_name",
        "temporal_api_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value  # compose passes an unset variable as ""

    @field_validator("temporal_tls_ca", "temporal_tls_cert")
    @classmethod
    def _certificate(cls, value: str | None) -> str | None:
        if value is not None:
            _check_pem(value, key=False)
        return value

    @field_validator("temporal_tls_key")
    @classmethod
    def _private_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _check_pem(value.get_secret_value(), key=True)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.temporal_retention <= timedelta(0):
            raise ValueError("TEMPORAL_RETENTION must be positive")
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            given, missing = (
                ("TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY")
                if self.temporal_tls_key is None
                else ("TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CERT")
            )
            raise ValueError(f"{given} is set without {missing}: mutual TLS needs both")
        if self.temporal_tls is False:
            secured = [name.upper() for name in self._tls_fields() if getattr(self, name)]
            if secured:
                raise ValueError(
                    f"TEMPORAL_TLS is false, yet {', '.join(secured)} "
                    f"{'is' if len(secured) == 1 else 'are'} set "
                    "(an API key is never sent in plaintext): unset one or the other"
                )
        return self

    @staticmethod
    def _tls_fields() -> tuple[str, ...]:
        return (
            "temporal_tls_ca",
            "temporal_tls_cert",
            "temporal_tls_key",
            "temporal_tls_server_name",
            "temporal_api_key",
        )

    @property
    def temporal_uses_tls(self) -> bool:
        if self.temporal_tls is not None:
            return self.temporal_tls
        return any(getattr(self, name) for name in self._tls_fields())
