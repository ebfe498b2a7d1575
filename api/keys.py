"""Typed keys for what the API's handlers take from the application (set by `service`):
the API's one module of keys (the composition root's own resources: `service.keys`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from api.readiness import Readiness
from api.tokens import Tokens
from usecases.accounts import Accounts
from usecases.history import OrderHistory
from usecases.idempotency import IdempotentOrders
from usecases.orders import Orders

if TYPE_CHECKING:  # api.ratelimit's middleware reads its key from here
    from api.ratelimit import Throttle

ORDERS = web.AppKey("orders", Orders)
IDEMPOTENT_ORDERS = web.AppKey("idempotent_orders", IdempotentOrders)
ACCOUNTS = web.AppKey("accounts", Accounts)
HISTORY = web.AppKey("order_history", OrderHistory)
TOKENS = web.AppKey("tokens", Tokens)
READINESS = web.AppKey("readiness", Readiness)
THROTTLE: web.AppKey[Throttle] = web.AppKey("throttle")
