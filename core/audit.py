"""The audit log: one structured line per security event, on the `audit` logger.

A line names the event, the client (the address the rate limiter counts, or `user:<id>`)
and an account only as a digest: the first 16 hex digits of the SHA-256 of its normalised
email, enough to see one account attacked from many addresses, never the email in clear;
never a password. With LOG_FORMAT=json each field is a key of its own (`event`, ...).
"""

from __future__ import annotations

import hashlib
import logging

AUDIT = logging.getLogger("audit")
NO_ACCOUNT = "-"


def account_digest(account: str) -> str:
    return hashlib.sha256(account.encode()).hexdigest()[:16]


def account_label(account: str) -> str:
    """An account as a client in audit lines: `account:<digest>`, never the email."""
    return f"account:{account_digest(account)}"


def record(event: str, level: int = logging.INFO, **fields: object) -> None:
    """One audit line: `<event> k=v ...`, and each field as a key of its own."""
    text = " ".join(f"{k}={v}" for k, v in fields.items())
    AUDIT.log(level, "%s %s", event, text, extra={"event": event, **fields})


def login_failed(*, client: str, account: str | None, reason: str) -> None:
    """A failed login: `reason` is `invalid_credentials` (an unknown email and a wrong
    password alike) or `invalid_request` (the form did not validate)."""
    digest = account_digest(account) if account is not None else NO_ACCOUNT
    record("login_failed", client=client, email_sha256=digest, reason=reason)


def rate_limited(bucket: str, client: str, retry_after: int, **more: object) -> None:
    """A 429: the bucket(s) that refused, who, and when to come back."""
    record(
        "rate_limited",
        logging.WARNING,
        bucket=bucket,
        client=client,
        retry_after=retry_after,
        **more,
    )
