"""The Celery app built from the settings: for the consumer (which sends `process_order`) and
for `orders celery`. It imports `processing` only, so a Celery worker loads nothing of the
API, the relay, RabbitMQ or Temporal (each prefork child inherits what its parent loaded)."""

from __future__ import annotations

from celery import Celery

from processing.celery_app import CeleryConfig, create_celery
from service.settings import Settings


def celery(settings: Settings, *, tasks: bool = True) -> Celery:
    """`tasks=False`: an app that only sends `process_order` (the consumer's)."""
    return create_celery(
        CeleryConfig(
            broker_url=settings.broker_url,
            queue=settings.celery_queue,
            dsn=settings.dsn,
            work_seconds=settings.process_order_seconds,
            lease_seconds=settings.process_order_lease_seconds,
        ),
        tasks=tasks,
    )
