"""Access tokens: HS256 JWTs that carry the user id, so authenticating needs no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt

from core.errors import InvalidToken

ALGORITHM = "HS256"
_REQUIRED = ["sub", "exp", "iat", "iss", "aud", "jti"]
# Clock skew tolerated between the host that issued a token and the one checking it.
LEEWAY = timedelta(seconds=10)


class Tokens:
    """Issues and verifies access tokens; built once by the composition root."""

    def __init__(self, *, secret: str, issuer: str, audience: str, ttl: timedelta) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl

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
        """The user id a valid token carries; InvalidToken for anything else."""
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
        return int(sub)
