"""Domain errors, raised where the rule lives and mapped to HTTP at the edge."""

from __future__ import annotations

from datetime import timedelta


class DomainError(Exception):
    """Base of every error the business rules raise."""


class OrderNotFound(DomainError):
    def __init__(self, order_id: object) -> None:
        super().__init__(f"order {order_id} not found")
        self.order_id = order_id


class Forbidden(DomainError):
    """The caller may not see or change this resource."""


class IllegalTransition(DomainError):
    def __init__(self, current: str, new: str) -> None:
        super().__init__(f"cannot change order status from {current} to {new}")
        self.current = current
        self.new = new


class EmailTaken(DomainError):
    def __init__(self) -> None:
        super().__init__("email already registered")


class InvalidCredentials(DomainError):
    def __init__(self) -> None:
        super().__init__("incorrect email or password")


class InvalidToken(DomainError):
    """A bearer token that is missing, malformed, expired or forged."""


class Unavailable(DomainError):
    """A dependency the request needs cannot be reached now; retrying later can succeed."""

    detail = "service unavailable"


class DatabaseUnavailable(Unavailable):
    detail = "service unavailable: database unreachable"


class HistoryGone(DomainError):
    """The order reached Temporal, but its workflow's history is no longer kept there: the
    namespace deletes a closed workflow's history after its retention period."""

    def __init__(self, order_id: object, retention: timedelta) -> None:
        kept = (
            f"{retention.days} days" if retention == timedelta(days=retention.days) else retention
        )
        self.detail = (
            f"order history no longer available: Temporal keeps a finished order's history"
            f" for {kept} (TEMPORAL_RETENTION)"
        )
        super().__init__(f"order {order_id}: {self.detail}")
        self.order_id = order_id


class HistoryUnavailable(Unavailable):
    """The order's history lives on the Temporal server, which cannot be reached now."""

    detail = "order history unavailable: Temporal is unreachable"


class DatabaseBusy(Unavailable):
    """PostgreSQL is reachable but saturated: no pooled connection in time, or a timeout."""

    detail = "service unavailable: database busy, retry later"


class PasswordHashingBusy(Unavailable):
    """Every password-hashing slot is taken; the request is refused instead of queued."""

    detail = "service unavailable: too many logins at once, retry later"


class UserGone(InvalidToken):
    """A valid token whose user no longer exists."""


class PreconditionFailed(DomainError):
    """`If-Match` names a version the order no longer has."""

    def __init__(self, current_version: int) -> None:
        super().__init__("the order has changed since the version named by If-Match")
        self.current_version = current_version


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key sent again with a different request body."""


class IdempotencyKeyInFlight(DomainError):
    """The first request with this Idempotency-Key is still running."""


class TooManyPendingOrders(DomainError):
    """The user already has the most open (PENDING) orders allowed at once."""

    retry_after = 60  # seconds: an order gets paid, canceled or expires meanwhile

    def __init__(self, limit: int) -> None:
        self.detail = (
            f"too many open orders: a user may have at most {limit} PENDING orders at once;"
            " pay for or cancel one first"
        )
        super().__init__(self.detail)
        self.limit = limit


class RateLimited(DomainError):
    """Over a rate limit; `headers` say when to come back (Retry-After, RateLimit)."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("rate limit exceeded")
        self.headers = headers
