"""Typed keys for everything the aiohttp application holds."""

from __future__ import annotations

import asyncpg
from aiohttp import web
from temporalio.client import Client

from api.tokens import Tokens
from relay.rabbit import Publisher
from service.settings import Settings
from store.cache import OrderCache
from usecases.passwords import Passwords

SETTINGS = web.AppKey("settings", Settings)
DB_POOL = web.AppKey("db_pool", asyncpg.Pool)
ORDER_CACHE = web.AppKey("order_cache", OrderCache)
TEMPORAL = web.AppKey("temporal_client", Client)
PASSWORDS = web.AppKey("passwords", Passwords)
TOKENS = web.AppKey("tokens", Tokens)
PUBLISHER = web.AppKey("publisher", Publisher)
