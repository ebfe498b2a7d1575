"""Access tokens: HS256 JWTs that carry the user id, so authenticating needs no database.

Verifying a token (base64, JSON, HMAC, the claims) was about a fifth of a cached read's
CPU, and a client sends the same token with every request for its whole life. So each
process remembers the tokens it verified (a bounded map: token -> user id and expiry) and
answers a token it has seen with one lookup and one clock check. That is the same answer
a full verification would give: the token is the signed text itself (any change to it is
another key, verified in full), and of its claims only the expiry depends on when it is
checked, so a remembered token past `exp` (with the leeway) is refused as expired.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt

from core.errors import InvalidToken

ALGORITHM = "HS256"
_REQUIRED = ["sub", "exp", "iat", "iss", "aud", "jti"]
# Clock skew tolerated between the host that issued a token and the one checking it.
LEEWAY = timedelta(seconds=10)
# Tokens remembered per process (about 0.3 KiB each); the oldest is forgotten first.
REMEMBERED = 4096
# Ours are about 300 ASCII characters; longer or other text is refused before any work.
MAX_LENGTH = 2048


class Tokens:
    """Issues and verifies access tokens; built once by the composition root."""

    def __init__(
        self,
        *,
        secret: str,
        issuer: str,
        audience: str,
        ttl: timedelta,
        remembered: int = REMEMBERED,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl
        self._remembered = remembered
        self._clock = clock
        self._verified: dict[str, tuple[int, float]] = {}  # token -> (user id, exp + leeway)

    @property
    def expires_in(self) -> int:
        """The lifetime of a new token, in seconds."""
        return int(self._ttl.total_seconds())

    def issue(self, user_id: int, *, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            "exp": issued + self._ttl,
            "iat": issued,
            "iss": self._issuer,
            "aud": self._audience,
            "jti": uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> int:
        """The user id a valid token carries; InvalidToken for anything else (a header
        byte that is not ASCII arrives here as a surrogate, which no JWT holds)."""
        if len(token) > MAX_LENGTH or not token.isascii():
            raise InvalidToken("not a token")
        known = self._verified.get(token)
        if known is not None:
            user_id, valid_until = known
            if self._clock() < valid_until:
                return user_id
            del self._verified[token]
            raise InvalidToken("Signature has expired")
        user_id, exp = self._decode(token)
        if len(self._verified) >= self._remembered:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (user_id, exp + LEEWAY.total_seconds())
        return user_id

    def _decode(self, token: str) -> tuple[int, float]:
        """Verify in full: the user id and the expiry (seconds since the epoch)."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY,
                options={"require": _REQUIRED},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub.isascii() or not sub.isdigit():
            raise InvalidToken("sub is not a user id")
        return int(sub), float(claims["exp"])
