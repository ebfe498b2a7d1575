"""The audit log: one structured line per security event, on the `audit` logger.

A line names the event, the client's address (as the rate limiter sees it, behind
trusted proxies too) and the account as a digest: the first 16 hex digits of the SHA-256
of its normalised email, enough to see one account attacked from many addresses, never
the email in clear; never a password. With LOG_FORMAT=json each field is a key of its own.
"""

from __future__ import annotations

import hashlib
import logging

AUDIT = logging.getLogger("audit")
NO_ACCOUNT = "-"


def account_digest(account: str) -> str:
    return hashlib.sha256(account.encode()).hexdigest()[:16]


def login_failed(*, client: str, account: str | None, reason: str) -> None:
    """A failed login: `reason` is `invalid_credentials` (an unknown email and a wrong
    password alike) or `invalid_request` (the form did not validate)."""
    digest = account_digest(account) if account is not None else NO_ACCOUNT
    AUDIT.info(
        "login failed client=%s email_sha256=%s reason=%s",
        client,
        digest,
        reason,
        extra={"event": "login_failed", "client": client, "email_sha256": digest, "reason": reason},
    )
