"""The pipeline's settings: RabbitMQ, Temporal, the outbox relay and Celery's processing.

RabbitMQ's credentials are RABBITMQ_USER / RABBITMQ_PASSWORD; RABBITMQ_TLS connects with
`amqps://` (port 5671 unless RABBITMQ_PORT says otherwise), verifying the broker's
certificate against RABBITMQ_TLS_CA_FILE or the system's store.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, Self
from urllib.parse import quote, urlencode

from pydantic import Field, FilePath, RedisDsn, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

from service.settings.durations import Duration
from service.settings.stores import empty_is_unset, userinfo
from workflows.types import PROCESSING_TIMEOUT_SECONDS

AMQP_PORT, AMQPS_PORT = 5672, 5671
# workflows.policies.ACTIVITY_TIMEOUT, a publish attempt's limit (tests/unit/test_settings.py
# holds them equal): not imported, the Celery worker loads these settings and no Temporal.
PUBLISH_ATTEMPT_SECONDS = 30.0


class PipelineSettings(BaseSettings):
    # RabbitMQ
    rabbitmq_host: str = "localhost"
    rabbitmq_port: int | None = Field(None, ge=1, le=65535)  # unset: 5672, or 5671 with TLS
    rabbitmq_user: str = "guest"
    rabbitmq_password: SecretStr
    rabbitmq_vhost: str = "/"
    rabbitmq_tls: bool = False  # amqps://, the certificate verified
    rabbitmq_tls_ca_file: FilePath | None = None  # else the system's CA store
    rabbitmq_exchange: str = "orders"
    rabbitmq_new_order_queue: str = Field("new_order", min_length=1)
    rabbitmq_status_queue: str = Field("order_status_changed", min_length=1)
    # The queues' type when first declared (a queue never changes type): classic, or quorum
    # (replicated; the production recipe's, deploy/compose.yml). messaging.topology.QueueType.
    rabbitmq_queue_type: Literal["classic", "quorum"] = "classic"
    rabbitmq_timeout_seconds: float = Field(10.0, gt=0)
    # How often a lost connection (the publisher's, the consumer's) tries again.
    rabbitmq_reconnect_interval: Duration = timedelta(seconds=1)
    # A publish that finds RabbitMQ down waits this long for it (released the moment it is
    # back) before it fails and is retried; at most PUBLISH_MAX_WAITING attempts wait so
    # long, the others 5 s (activities/broker_gate.py). With it and RABBITMQ_TIMEOUT_SECONDS
    # an attempt must fit in the publish activity's 30 s.
    publish_broker_wait: Duration = timedelta(seconds=15)
    publish_max_waiting: int = Field(40, ge=1)
    consumer_prefetch: int = Field(100, ge=1)

    # Temporal
    temporal_task_queue: str = Field("orders", min_length=1)
    temporal_timeout_seconds: float = Field(10.0, gt=0)
    # Workflows the worker keeps in memory (about 0.1 MiB each, docs/performance.md): the
    # cache (and its sticky queue) keeps an order's workflow between its tasks, so the next
    # one (the `processed` signal, a status change) replays no history; an evicted order
    # replays it at its next signal or timer. An open order stays cached until evicted (it
    # waits up to a day for payment), so the cache is full at steady state: this bounds the
    # worker's memory. 1000 is more than the orders in flight between start and `processed`
    # in a 600-order burst on a 2-core machine (no eviction there).
    temporal_workflow_cache: int = Field(1000, ge=0)
    # Activities the worker runs at once: publishes awaiting RabbitMQ's confirm (or waiting
    # for it to come back), processing checks, expiries. More than PUBLISH_MAX_WAITING.
    temporal_max_activities: int = Field(50, ge=2)
    # Worker versioning (docs/architecture.md "Versions and deploys"): the worker is one
    # version of the Worker Deployment named after its task queue, its build id
    # TEMPORAL_BUILD_ID ("": v<WORKFLOW_VERSION>, the workflows' own version); each run is
    # pinned to the version that started it. False: an unversioned worker.
    temporal_worker_versioning: bool = True
    temporal_build_id: str = Field("", max_length=255, pattern=r"^[A-Za-z0-9_-]*$")
    # The worker makes its version current when none is, or an older v<N> is, and wakes
    # the runs on the others. False: promote by hand (`orders workflows promote`).
    temporal_worker_promote: bool = True
    # How often the relay checks whether a worker or run of version 5 may still read what
    # it sends (workflows/compat_gate.py): v5's fields go beside each argument until a
    # check says none may. Also how long a rollback to v5 goes unseen.
    temporal_compat_check_interval: Duration = Field(timedelta(seconds=10), gt=timedelta(0))
    payment_timeout: Duration = timedelta(hours=24)
    # A workflow that published `new_order` and heard no `processed` for this long
    # publishes it again (same event id), then waits longer each time.
    processing_timeout: Duration = timedelta(seconds=PROCESSING_TIMEOUT_SECONDS)
    # Run the worker's workflows in the Temporal sandbox (off: about 4 times less of the
    # worker's CPU per workflow run; replays and the workflow's tests always use it).
    workflow_sandbox: bool = False

    # The relay's window (relay/window.py): rows claimed and handed to Temporal at once,
    # between these bounds, halved when a batch's median hand-off takes more than both
    # the tolerance times the fastest seen and the target, or when one fails.
    relay_batch_size: int = Field(100, ge=1, le=1000)
    relay_min_batch_size: int = Field(8, ge=1, le=1000)
    relay_latency_tolerance: float = Field(2.0, gt=1.0)
    relay_latency_target_seconds: float = Field(0.25, ge=0)
    relay_poll_interval_seconds: float = Field(1.0, gt=0)
    # A row the relay claimed is its own for this long, holding no lock: its hand-off is cut
    # off after it, and a row whose relay died mid-hand-off is claimable again after it.
    relay_lease_seconds: float = Field(30.0, gt=0)
    # A row that failed more often is parked (1440: about a day at the 60 s backoff cap).
    outbox_max_attempts: int = Field(1440, ge=1)
    # Relayed and published rows older than this are deleted.
    outbox_retention: Duration = timedelta(days=7)

    # Celery (its broker is Redis unless CELERY_BROKER_URL says otherwise)
    celery_broker_url: RedisDsn | None = None
    celery_queue: str = Field("orders", min_length=1)
    # How `orders celery` runs process_order (its work is a sleep and one INSERT: I/O):
    # threads in the one process; prefork forks a child per slot, each ~80 MiB.
    celery_pool: str = Field("threads", pattern="^(threads|prefork|solo)$")
    process_order_seconds: float = Field(2.0, ge=0)
    # process_order claims an order before its work: no other delivery does the work while
    # the claim holds; a claim whose worker died runs out after this. Longer than the work.
    process_order_lease_seconds: float = Field(60.0, gt=0)

    _pipeline_unset_when_empty = field_validator(
        "rabbitmq_port", "rabbitmq_tls_ca_file", "celery_broker_url", mode="before"
    )(empty_is_unset)

    @field_validator("rabbitmq_password")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _positive_durations(self) -> Self:
        for name in ("processing_timeout", "outbox_retention"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name.upper()} must be positive")
        if self.process_order_lease_seconds <= self.process_order_seconds:
            raise ValueError(
                "PROCESS_ORDER_LEASE_SECONDS must exceed PROCESS_ORDER_SECONDS (the work)"
            )
        self._check_publish_wait()
        if self.relay_lease_seconds <= self.temporal_timeout_seconds:
            raise ValueError(
                "RELAY_LEASE_SECONDS must exceed TEMPORAL_TIMEOUT_SECONDS (a hand-off's timeout)"
            )
        return self

    def _check_publish_wait(self) -> None:
        for name in ("rabbitmq_reconnect_interval", "publish_broker_wait"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name.upper()} must be positive")
        attempt = self.publish_broker_wait.total_seconds() + self.rabbitmq_timeout_seconds
        if attempt >= PUBLISH_ATTEMPT_SECONDS:
            raise ValueError(
                "PUBLISH_BROKER_WAIT plus RABBITMQ_TIMEOUT_SECONDS must stay under the publish"
                f" activity's {PUBLISH_ATTEMPT_SECONDS:g} s"
            )
        if self.publish_max_waiting >= self.temporal_max_activities:
            raise ValueError(
                "PUBLISH_MAX_WAITING must stay below TEMPORAL_MAX_ACTIVITIES (the worker's"
                " other activities need slots while publishes wait for RabbitMQ)"
            )

    @property
    def rabbitmq_url(self) -> str:
        """The broker's URL as aio-pika reads it: credentials, vhost, TLS and its CA file."""
        scheme, default_port = ("amqps", AMQPS_PORT) if self.rabbitmq_tls else ("amqp", AMQP_PORT)
        auth = userinfo(self.rabbitmq_user, self.rabbitmq_password)
        port = self.rabbitmq_port or default_port
        vhost = quote(self.rabbitmq_vhost, safe="")
        url = f"{scheme}://{auth}{self.rabbitmq_host}:{port}/{vhost}"
        if self.rabbitmq_tls and self.rabbitmq_tls_ca_file is not None:
            url += "?" + urlencode({"cafile": str(self.rabbitmq_tls_ca_file)})
        return url
