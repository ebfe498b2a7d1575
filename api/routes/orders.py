"""Orders: create, read, change status, and list a user's orders (newest first)."""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from aiohttp import web

from api.auth import bearer_user
from api.cursor import encode_cursor
from api.keys import HISTORY, IDEMPOTENT_ORDERS, ORDERS
from api.operations import HeaderParam, Operation, PathParam
from api.preconditions import IDEMPOTENCY_KEY, KEY_PATTERN, etag, idempotency_key, if_match
from api.responses import JSON, json_response, order_response, orders_response
from api.schemas.orders import (
    OrderIn,
    OrderListQuery,
    OrderOut,
    StatusIn,
    TimelineEntryOut,
    UserPath,
)
from api.validation import json_body, query_params, validate
from core.errors import OrderNotFound


def _order_id(request: web.Request) -> UUID:
    """The path's order id; a malformed one names no order, so it is a 404 like any other."""
    raw = request.match_info["order_id"]
    try:
        return UUID(raw)
    except ValueError:
        raise OrderNotFound(raw) from None


async def create_order(request: web.Request) -> web.Response:
    user_id = bearer_user(request)
    key = idempotency_key(request)
    body = await json_body(request, OrderIn)
    if key is None:
        order = await request.app[ORDERS].create(user_id=user_id, items=body.to_items())
        headers = {"Location": f"/orders/{order.id}/", "ETag": etag(order)}
        return order_response(order, status=201, headers=headers)
    done = await request.app[IDEMPOTENT_ORDERS].create(
        user_id=user_id, items=body.to_items(), key=key
    )
    headers = {"Location": f"/orders/{done.order_id}/"}
    if done.replayed:
        headers["Idempotent-Replayed"] = "true"
    return web.Response(body=done.body, status=done.status, headers=headers, content_type=JSON)


async def get_order(request: web.Request) -> web.Response:
    user_id = bearer_user(request)
    order = await request.app[ORDERS].get(order_id=_order_id(request), user_id=user_id)
    return order_response(order, headers={"ETag": etag(order)})


async def change_status(request: web.Request) -> web.Response:
    user_id = bearer_user(request)
    order_id = _order_id(request)
    body = await json_body(request, StatusIn)
    order = await request.app[ORDERS].change_status(
        order_id=order_id, user_id=user_id, new=body.status, if_version=if_match(request)
    )
    return order_response(order, headers={"ETag": etag(order)})


async def list_orders(request: web.Request) -> web.Response:
    user_id = bearer_user(request)
    owner = validate(UserPath, dict(request.match_info), "path").user_id
    query = query_params(request, OrderListQuery)
    page = await request.app[ORDERS].list_for(
        caller_id=user_id,
        owner_id=owner,
        limit=query.limit,
        status=query.status,
        before=query.cursor,
    )
    headers: dict[str, str] = {}
    if len(page.orders) == query.limit and page.last is not None:
        params = {"limit": str(query.limit), "cursor": encode_cursor(page.last)}
        if query.status is not None:
            params["status"] = query.status.value
        headers["Link"] = f'</orders/user/{owner}/?{urlencode(params)}>; rel="next"'
    return orders_response(page, headers=headers)


async def order_history(request: web.Request) -> web.Response:
    user_id = bearer_user(request)
    entries = await request.app[HISTORY].timeline(order_id=_order_id(request), user_id=user_id)
    return json_response([e.to_dict() for e in entries])


_ORDER_ID = PathParam("order_id", {"type": "string", "format": "uuid"}, "the order's id")
_USER_ID = PathParam("user_id", {"type": "integer"}, "the user's id (the caller's own)")
_IDEMPOTENCY_KEY = HeaderParam(
    IDEMPOTENCY_KEY,
    {"type": "string", "pattern": KEY_PATTERN},
    "repeat a create safely: the same key (per user, 24 h) replays the first answer",
)
_IF_MATCH = HeaderParam(
    "If-Match",
    {"type": "string"},
    "change only while the order still has this ETag (else 412, nothing changed)",
)
_ETAG = ("ETag", "the order's version, for If-Match")

# OpenAPI links: how a client (or schemathesis' stateful phase) chains the calls.
_THE_ORDER = {"parameters": {"order_id": "$response.body#/id"}}
_ORDER_LINKS = (
    ("GetOrder", {"operationId": "get_order", **_THE_ORDER}),
    ("ChangeOrderStatus", {"operationId": "change_order_status", **_THE_ORDER}),
    ("GetOrderHistory", {"operationId": "get_order_history", **_THE_ORDER}),
    (
        "ListOwnerOrders",
        {"operationId": "list_user_orders", "parameters": {"user_id": "$response.body#/user_id"}},
    ),
)

OPERATIONS = [
    Operation(
        "POST",
        "/orders/",
        create_order,
        "create_order",
        "Create an order",
        "orders",
        status=201,
        response=OrderOut,
        body=OrderIn,
        errors=(401, 408, 409, 413, 422, 429, 503),
        auth=True,
        response_headers=(("Location", "the new order's URL"), _ETAG),
        header_params=(_IDEMPOTENCY_KEY,),
        links=_ORDER_LINKS,
    ),
    Operation(
        "GET",
        "/orders/{order_id}/",
        get_order,
        "get_order",
        "Get an order",
        "orders",
        response=OrderOut,
        path_params=(_ORDER_ID,),
        errors=(401, 403, 404, 429, 503),
        auth=True,
        response_headers=(_ETAG,),
        links=_ORDER_LINKS[1:],
    ),
    Operation(
        "PATCH",
        "/orders/{order_id}/",
        change_status,
        "change_order_status",
        "Change an order's status",
        "orders",
        response=OrderOut,
        body=StatusIn,
        path_params=(_ORDER_ID,),
        errors=(401, 403, 404, 408, 409, 412, 413, 422, 429, 503),
        auth=True,
        response_headers=(_ETAG,),
        header_params=(_IF_MATCH,),
        links=(_ORDER_LINKS[0], _ORDER_LINKS[3]),
    ),
    Operation(
        "GET",
        "/orders/user/{user_id}/",
        list_orders,
        "list_user_orders",
        "A user's orders, newest first",
        "orders",
        response=OrderOut,
        response_list=True,
        query=OrderListQuery,
        path_params=(_USER_ID,),
        errors=(401, 403, 422, 429, 503),
        auth=True,
        response_headers=(("Link", 'the next page, rel="next", when this one is full'),),
    ),
    Operation(
        "GET",
        "/orders/{order_id}/history/",
        order_history,
        "get_order_history",
        "An order's timeline, from its Temporal workflow",
        "orders",
        response=TimelineEntryOut,
        response_list=True,
        path_params=(_ORDER_ID,),
        errors=(401, 403, 404, 410, 429, 503),
        auth=True,
    ),
]
