"""Rate limiting at the edge: a token bucket per client, stricter ones for credentials.

The client is the user when the request carries a valid token, else its address
(`X-Forwarded-For` is believed only when the peer is a trusted proxy). The general
bucket (on unless configured off) covers every route but health, readiness, docs and
metrics; `OPTIONS` preflights are not counted. `/token/` and `/register/` always have
buckets of their own, per address and per account. Over a limit: 429 with `Retry-After`
and the IETF `RateLimit` / `RateLimit-Policy` headers. The buckets themselves live
behind the `Buckets` port (Redis, with in-process buckets when Redis fails).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler

from api.auth import bearer_user
from api.metrics import RATE_LIMITED
from api.responses import error_response
from core.errors import InvalidToken, RateLimited
from core.ratelimit import Decision, Policy

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

EXEMPT_PATHS = frozenset({"/health", "/ready", "/docs", "/openapi.json", "/metrics"})
EXEMPT_PREFIXES = ("/docs/",)
DETAIL = "rate limit exceeded"


class Buckets(Protocol):
    async def take(self, client: str, policy: Policy) -> Decision:
        """Take one token from `client`'s bucket under `policy`."""
        ...


DEFAULT_POLICY = Policy("default", 100, 50.0)
CREDENTIALS_POLICY = Policy("credentials", 10, 0.2)


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    enabled: bool = True
    default: Policy = DEFAULT_POLICY
    credentials: Policy = CREDENTIALS_POLICY  # per address, and per account
    trusted_proxies: tuple[IPNetwork, ...] = field(default=())


def is_exempt(path: str) -> bool:
    return path.rstrip("/") in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class Throttle:
    def __init__(self, buckets: Buckets, config: RateLimitConfig) -> None:
        self._buckets = buckets
        self._config = config
        self._policies: dict[str, tuple[Policy, Policy]] = {}

    def _trusted(self, address: str) -> bool:
        ip = _ip(address)
        return ip is not None and any(ip in net for net in self._config.trusted_proxies)

    def client_address(self, request: web.Request) -> str:
        """The peer, or the nearest untrusted hop of X-Forwarded-For when the peer is a proxy."""
        peer = request.remote or "unknown"
        if not self._trusted(peer):
            return peer
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
        hops = [h for h in hops if _ip(h) is not None]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return str(_ip(hop))
        return str(_ip(hops[0])) if hops else peer

    def _client(self, request: web.Request) -> str:
        if "Authorization" in request.headers:
            try:
                return f"user:{bearer_user(request)}"
            except InvalidToken:
                pass  # the route answers 401; count it against the address
        return f"addr:{self.client_address(request)}"

    async def general(self, request: web.Request) -> Decision | None:
        """The general bucket's decision; None when general limiting is off."""
        if not self._config.enabled:
            return None
        return await self._buckets.take(self._client(request), self._config.default)

    def _credential_policies(self, route: str) -> tuple[Policy, Policy]:
        if route not in self._policies:
            base = self._config.credentials
            self._policies[route] = (
                Policy(f"{route}-address", base.capacity, base.refill_rate),
                Policy(f"{route}-account", base.capacity, base.refill_rate),
            )
        return self._policies[route]

    async def credentials(self, request: web.Request, route: str, account: str | None) -> None:
        """Count a credentials attempt per address and (once known) per account."""
        by_address, by_account = self._credential_policies(route)
        if account is None:
            decision = await self._buckets.take(self.client_address(request), by_address)
        else:
            decision = await self._buckets.take(account, by_account)
        if not decision.allowed:
            RATE_LIMITED.labels(route).inc()
            raise RateLimited(decision.headers())


THROTTLE = web.AppKey("throttle", Throttle)


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    throttle = request.app.get(THROTTLE)
    if throttle is None or request.method == "OPTIONS" or is_exempt(request.path):
        return await handler(request)
    decision = await throttle.general(request)
    if decision is None:
        return await handler(request)
    headers = decision.headers()
    if not decision.allowed:
        RATE_LIMITED.labels("general").inc()
        return error_response(429, DETAIL, headers=headers)
    response = await handler(request)
    if "RateLimit" not in response.headers:  # a stricter bucket's headers win
        response.headers.update(headers)
    return response
