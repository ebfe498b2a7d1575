"""JSON responses, encoded with orjson; orders go through the core's one codec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from core.order import Order, encode_order, encode_orders

JSON = "application/json"


def json_response(
    payload: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(payload), status=status, headers=headers, content_type=JSON
    )


def order_response(
    order: Order, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(body=encode_order(order), status=status, headers=headers, content_type=JSON)


def orders_response(
    orders: list[Order], *, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(body=encode_orders(orders), headers=headers, content_type=JSON)


def error_response(
    status: int, detail: object, *, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Every error body: JSON with a `detail` key."""
    return json_response({"detail": detail}, status=status, headers=headers)
