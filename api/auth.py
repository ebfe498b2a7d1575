"""Bearer authentication: the user id from the `Authorization` header's token."""

from __future__ import annotations

from aiohttp import web

from api.keys import TOKENS
from core.errors import InvalidToken

# The verified user id, once per request (the rate limiter may have verified it first).
_USER_ID = web.RequestKey("user_id", int)


class MissingToken(InvalidToken):
    """No `Authorization: Bearer <token>` header at all."""


def bearer_user(request: web.Request) -> int:
    """The authenticated user's id; MissingToken or InvalidToken (both 401) otherwise."""
    if _USER_ID in request:
        return request[_USER_ID]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingToken("not authenticated")
    user_id = request.app[TOKENS].verify(token.strip())
    request[_USER_ID] = user_id
    return user_id
