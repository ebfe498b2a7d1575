"""What a process tells about itself, its memory and its CPU priority: logs, metrics,
traces, malloc, nice."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings


class ObservabilitySettings(BaseSettings):
    log_level: str = "INFO"
    log_format: str = Field("text", pattern="^(text|json)$")

    # Metrics: the Temporal SDK's exporter on loopback (unset: a free port; 0: off), appended
    # to /metrics; the Celery worker's own endpoint (0: off), on loopback unless configured.
    temporal_metrics_port: int | None = Field(None, ge=0, le=65535)
    celery_metrics_port: int = Field(9101, ge=0, le=65535)
    celery_metrics_host: str = "127.0.0.1"

    # Traces (service/tracing.py): off unless the collector's OTLP/HTTP base URL is set.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = Field("orders", min_length=1)

    # glibc malloc (service/memory.py; 0: glibc's default): arenas per process (glibc: 8
    # per core), and a fixed threshold above which blocks are mmapped and given back when
    # freed (glibc: 128 KiB, raised by each free up to 32 MiB, which keeps them).
    malloc_arena_max: int = Field(2, ge=0)
    malloc_mmap_threshold: int = Field(1024 * 1024, ge=0, le=32 * 1024 * 1024)

    # The CPU priority this process yields to others (service/priority.py): a nice value
    # from 0 (as started) to 19. `make run` runs the pipeline and Celery at 10, so that
    # on one machine the API keeps its CPU while they drain a backlog.
    cpu_niceness: int = Field(0, ge=0, le=19)

    @field_validator("otel_exporter_otlp_endpoint", mode="before")
    @classmethod
    def _http_url_or_unset(cls, value: Any) -> Any:
        if value == "":  # compose passes an unset variable as empty: tracing off
            return None
        if isinstance(value, str) and not value.startswith(("http://", "https://")):
            raise ValueError("must be an OTLP/HTTP base URL, e.g. http://127.0.0.1:4318")
        return value
