"""Request headers that make a write conditional or repeatable: If-Match and Idempotency-Key.

An order's `ETag` is its version as a strong entity tag (`"3"`); `If-Match` compares
strongly (RFC 9110 13.1.1), so a weak tag never matches. An `Idempotency-Key` is an
sf-string (draft-ietf-httpapi-idempotency-key-header); a bare token is accepted too.
"""

from __future__ import annotations

import re

from aiohttp import web

from api.validation import RequestValidationError
from core.order import OrderView

IDEMPOTENCY_KEY = "Idempotency-Key"
MAX_KEY_LENGTH = 255
MAX_IF_MATCH_LENGTH = 1024
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY = re.compile(KEY_PATTERN)
_STRONG_VERSION = re.compile(r'"(\d{1,10})"')


def etag(order: OrderView) -> str:
    return f'"{order.version}"'


def if_match(request: web.Request) -> tuple[int, ...] | None:
    """The versions `If-Match` accepts; None when it is absent or `*` (any version)."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    if len(raw) > MAX_IF_MATCH_LENGTH:
        return ()  # not read: no version matches
    versions = []
    for tag in raw.split(","):
        match = _STRONG_VERSION.fullmatch(tag.strip())
        if match:
            versions.append(int(match.group(1)))
    return tuple(versions)  # nothing parseable: no version matches


def idempotency_key(request: web.Request) -> str | None:
    """The request's Idempotency-Key; a malformed one is a 422 naming the header."""
    raw = request.headers.get(IDEMPOTENCY_KEY)
    if raw is None:
        return None
    key = raw.strip() if len(raw) <= MAX_KEY_LENGTH + 2 else ""  # + 2: an sf-string's quotes
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not _KEY.fullmatch(key):
        raise RequestValidationError(
            [
                {
                    "loc": ["header", IDEMPOTENCY_KEY],
                    "msg": f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters",
                    "type": "string_pattern_mismatch",
                }
            ]
        )
    return key
