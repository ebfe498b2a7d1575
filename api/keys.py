"""Typed keys for what the API's handlers take from the application (set by `service`)."""

from __future__ import annotations

from aiohttp import web

from api.readiness import Readiness
from api.tokens import Tokens
from usecases.accounts import Accounts
from usecases.history import OrderHistory
from usecases.idempotency import IdempotentOrders
from usecases.orders import Orders

ORDERS = web.AppKey("orders", Orders)
IDEMPOTENT_ORDERS = web.AppKey("idempotent_orders", IdempotentOrders)
ACCOUNTS = web.AppKey("accounts", Accounts)
HISTORY = web.AppKey("order_history", OrderHistory)
TOKENS = web.AppKey("tokens", Tokens)
READINESS = web.AppKey("readiness", Readiness)
