"""Where operators, and only they, look: the operator listener and /metrics' exposure.

Every `orders serve` process has two listeners: the public one (HTTP_HOST:HTTP_PORT; the
API, /health, /ready with states only, /metrics unless METRICS_PUBLIC=false) and the
operator one (OPERATOR_HOST:OPERATOR_PORT, loopback by default: /health, /ready with each
role's details, /metrics). `Settings.operator_listen_port` resolves the port.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from service.settings.stores import empty_is_unset

# OPERATOR_PORT unset: the HTTP port plus this, so that the processes of one host (the
# API on 8000, the pipeline on 8001) get theirs (9000, 9001) without more configuration.
OPERATOR_PORT_OFFSET = 1000


class OperatorSettings(BaseSettings):
    operator_host: str = "127.0.0.1"
    operator_port: int | None = Field(None, ge=0, le=65535)  # unset: HTTP_PORT + 1000; 0: off
    # /metrics on the public port too (the contract has it there); the operator listener
    # always serves it.
    metrics_public: bool = True

    _operator_unset_when_empty = field_validator("operator_port", mode="before")(empty_is_unset)
