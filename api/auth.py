"""Bearer authentication: the user id from the `Authorization` header's token."""

from __future__ import annotations

from aiohttp import web

from api.keys import TOKENS
from core.errors import InvalidToken


class MissingToken(InvalidToken):
    """No `Authorization: Bearer <token>` header at all."""


def bearer_user(request: web.Request) -> int:
    """The authenticated user's id; MissingToken or InvalidToken (both 401) otherwise."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingToken("not authenticated")
    return request.app[TOKENS].verify(token.strip())
