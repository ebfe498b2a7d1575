"""How the workflows call their activities: one timeout, one retry policy.

No maximum_attempts: an outage of hours heals by itself, and every attempt stays
visible as the workflow's pending activity. The delays are core.backoff.RETRY's, up to a
minute: a publish that fails because RabbitMQ is away overrides them (it waits for the
broker at its worker's gate, then asks for a retry in 1 s: activities.broker_gate), so
the broker's return is noticed at once; other failures (a nack, PostgreSQL away) back off.
An input that can never work fails non-retryably instead (activities.order).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from temporalio.common import RetryPolicy

from core.backoff import RETRY

RETRY_FOREVER: Final = RetryPolicy(
    initial_interval=timedelta(seconds=RETRY.initial),
    backoff_coefficient=RETRY.factor,
    maximum_interval=timedelta(seconds=RETRY.maximum),
)
ACTIVITY_TIMEOUT: Final = timedelta(seconds=30)
# The first publish of `new_order` runs once as a local activity, inside the workflow
# task (no activity task, no extra round trip); when it fails, the regular activity
# above takes over and retries forever.
LOCAL_TIMEOUT: Final = timedelta(seconds=5)
ONE_ATTEMPT: Final = RetryPolicy(maximum_attempts=1)
# Waiting for `processed` grows from PROCESSING_TIMEOUT up to this (or the timeout).
MAX_PROCESSING_WAIT_SECONDS: Final = 3600.0
# Processing checks without `processed` (each one republishes `new_order`, or waits again
# while RabbitMQ or Celery hold a backlog) before the order is marked stuck and waits for
# an operator: with the 5-minute timeout, after 5+10+20+40+60+60 minutes, about 3 h 15.
PROCESSING_CHECKS: Final = 6
# A run whose history grew past this many events continues as new at its next wait, so no
# history grows without bound (an operator retrying a stuck order for months, say).
HISTORY_LIMIT: Final = 2000
