"""JSON responses, encoded with orjson; orders go through the core's one codec, and an
order read is served as the bytes its view holds (encoded once, when it was written)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from core.order import OrderPage, OrderView

JSON = "application/json"


def json_response(
    payload: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(payload), status=status, headers=headers, content_type=JSON
    )


def order_response(
    order: OrderView, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(body=order.body, status=status, headers=headers, content_type=JSON)


def orders_response(page: OrderPage, *, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(page.orders), headers=headers, content_type=JSON)


def error_response(
    status: int, detail: object, *, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Every error body: JSON with a `detail` key."""
    return json_response({"detail": detail}, status=status, headers=headers)
