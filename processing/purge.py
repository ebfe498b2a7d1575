"""Emptying the Celery queue of `process_order` (a reset of local state): the tasks waiting
in it, and those a worker took without acknowledging them, which kombu's Redis transport
keeps in its `unacked` hash (shared by every queue of the broker's database) until the
visibility timeout hands them back to their queue."""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis
from celery import Celery

# kombu's Redis transport: delivery tag -> [message, exchange, routing key]; and by time.
UNACKED = "unacked"
UNACKED_INDEX = "unacked_index"


@dataclass(frozen=True, slots=True)
class Purged:
    waiting: int
    unacknowledged: int


def purge_queue(app: Celery, broker: redis.Redis, queue: str) -> Purged:
    """Delete the app's queue `queue` (its task_default_queue) with its tasks, bindings
    and unacknowledged tasks from `broker` (its Redis database); other queues' stay."""
    waiting = app.control.purge()  # the app's own queues, through kombu
    with app.connection_for_write() as connection:
        bound = app.amqp.queues[queue].bind(connection.default_channel)
        bound.declare()  # kombu deletes the bindings it knows of: this channel's
        bound.delete()  # its lists and its `_kombu.binding*` entries
    taken = 0
    for tag, raw in broker.hscan_iter(UNACKED):
        _message, _exchange, routing_key = json.loads(raw)
        if routing_key == queue:
            taken += broker.hdel(UNACKED, tag)
            broker.zrem(UNACKED_INDEX, tag)
    return Purged(waiting=waiting or 0, unacknowledged=taken)
