"""Rate limiting at the edge: a token bucket per client, one per user for creating orders,
and stricter ones for credentials.

The client is the user when the request carries a valid token, else its address
(`api.clients`: believed from `X-Forwarded-For` only behind a trusted proxy, IPv6 by
prefix). The general bucket (on unless configured off) covers every route but health,
readiness, docs and metrics; `OPTIONS` preflights are not counted. `POST /orders/` also
takes from the user's creation bucket, in the same step. `/register/` has buckets of its
own, always on, per address and per account; `/token/`'s are in `api.login_limits`. Over a
limit: 429 with `Retry-After` and the IETF `RateLimit` / `RateLimit-Policy` headers, and
one audit line. The buckets live behind the `Buckets` port (Redis, with in-process buckets
when Redis fails).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler

from api.auth import bearer_user
from api.clients import FORWARDED_FOR, IPNetwork, client_identity
from api.keys import THROTTLE
from api.metrics import RATE_LIMITED
from api.responses import error_response
from core import audit
from core.errors import InvalidToken, RateLimited
from core.ratelimit import Claim, Decision, Policy, limit_headers, refused

log = logging.getLogger(__name__)

EXEMPT_PATHS = frozenset({"/health", "/ready", "/docs", "/openapi.json", "/metrics"})
EXEMPT_PREFIXES = ("/docs/",)
DETAIL = "rate limit exceeded"


class Buckets(Protocol):
    async def take(self, claims: Sequence[Claim], cost: int = 1) -> list[Decision]:
        """A token from each (client, policy) bucket, or, when one has none, from none."""
        ...

    async def give_back(self, claims: Sequence[Claim]) -> None:
        """One token back to each bucket."""
        ...

    async def remember(self, name: str, ttl_seconds: int) -> None:
        """Remember `name` for `ttl_seconds`."""
        ...

    async def knows(self, name: str) -> bool:
        """Whether `name` is remembered."""
        ...


KNOWN_CLIENT_TTL = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """Built from the settings (`service.app.rate_limits`), which hold every default."""

    enabled: bool  # the general and the creation buckets
    default: Policy  # per client
    create: Policy  # per user, POST /orders/
    credentials: Policy  # strict: /register/, /token/ per account+address
    failures: Policy  # looser: failed logins per account, per address
    trusted_proxies: tuple[IPNetwork, ...]
    ipv6_prefix: int
    known_client_ttl: timedelta = KNOWN_CLIENT_TTL  # an address an account logged in from


def is_exempt(path: str) -> bool:
    return path.rstrip("/") in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES)


def is_create(request: web.Request) -> bool:
    return request.method == "POST" and request.path.rstrip("/") == "/orders"


def scoped(name: str, policy: Policy) -> Policy:
    return Policy(name, policy.capacity, policy.refill_rate)


def refuse(
    request: web.Request, decisions: Sequence[Decision], client: str, label: str
) -> dict[str, str]:
    """Count (under `label`) and audit a 429; the headers it answers with: the refusing
    buckets'."""
    over = refused(decisions)
    buckets = ",".join(d.policy.name for d in over)
    headers = limit_headers(over)
    RATE_LIMITED.labels(label).inc()
    audit.rate_limited(
        buckets,
        client,
        int(headers["Retry-After"]),
        method=request.method,
        path=request.path,
    )
    return headers


class Throttle:
    def __init__(self, buckets: Buckets, config: RateLimitConfig) -> None:
        self.buckets = buckets
        self.config = config
        self._register = (
            scoped("register-address", config.credentials),
            scoped("register-account", config.credentials),
        )

    def client_address(self, request: web.Request) -> str:
        """The client's address (its IPv6 network), past any trusted proxies."""
        return client_identity(
            request.remote,
            request.headers.getall(FORWARDED_FOR, ()),
            self.config.trusted_proxies,
            ipv6_prefix=self.config.ipv6_prefix,
        )

    def _user(self, request: web.Request) -> int | None:
        if "Authorization" not in request.headers:
            return None
        try:
            return bearer_user(request)
        except InvalidToken:
            return None  # the route answers 401; count it against the address

    def _claims(self, request: web.Request) -> list[Claim]:
        user = self._user(request)
        if user is None:
            return [(f"addr:{self.client_address(request)}", self.config.default)]
        claims = [(f"user:{user}", self.config.default)]
        if is_create(request):
            claims.append((f"user:{user}", self.config.create))
        return claims

    async def general(self, request: web.Request) -> web.Response | dict[str, str] | None:
        """A 429 to answer, or the headers for the answer; None when limiting is off."""
        if not self.config.enabled:
            return None
        claims = self._claims(request)
        decisions = await self.buckets.take(claims)
        if refused(decisions):
            label = "create" if decisions[0].allowed else "general"
            headers = refuse(request, decisions, claims[0][0], label)
            return error_response(429, DETAIL, headers=headers)
        return limit_headers(decisions)

    async def register(self, request: web.Request, account: str | None = None) -> None:
        """Count a /register/ attempt per address, or (once known) per account."""
        by_address, by_account = self._register
        if account is None:
            client = f"addr:{self.client_address(request)}"
            claim, named = (client, by_address), client
        else:
            claim, named = (account, by_account), audit.account_label(account)
        decisions = await self.buckets.take([claim])
        if refused(decisions):
            raise RateLimited(refuse(request, decisions, named, "register"))


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    throttle = request.app.get(THROTTLE)
    if throttle is None or request.method == "OPTIONS" or is_exempt(request.path):
        return await handler(request)
    outcome = await throttle.general(request)
    if outcome is None:
        return await handler(request)
    if isinstance(outcome, web.Response):
        return outcome
    response = await handler(request)
    if "RateLimit" not in response.headers:  # a stricter bucket's headers win
        response.headers.update(outcome)
    return response
