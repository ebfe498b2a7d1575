"""Every failed login is one structured audit line: what happened, from where, to which
account (its email hashed), and why; never the password, never the email in clear."""

from __future__ import annotations

import hashlib
import logging

import pytest

from tests.support.api_client import PASSWORD, Client, User

SECRET_GUESS = "hunter2-but-longer"


def _audit(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "audit"]


def _everything_in(record: logging.LogRecord) -> str:
    return f"{record.getMessage()} {record.__dict__!r}"


@pytest.mark.parametrize("known", [True, False], ids=["wrong-password", "unknown-email"])
async def test_a_failed_login_is_one_audit_line_with_the_email_hashed(
    client: Client, user: User, caplog: pytest.LogCaptureFixture, known: bool
) -> None:
    caplog.set_level(logging.INFO, logger="audit")
    email = user.email if known else "nobody-" + user.email
    typed = email.upper()  # the account is named by its one normalised spelling
    resp = await client.post("/token/", data={"username": typed, "password": SECRET_GUESS})
    assert resp.status == 401
    (record,) = _audit(caplog)
    assert record.levelno == logging.INFO
    assert record.__dict__["event"] == "login_failed"
    assert record.__dict__["reason"] == "invalid_credentials"
    assert record.__dict__["client"] == "127.0.0.1"
    digest = hashlib.sha256(email.encode()).hexdigest()[:16]
    assert record.__dict__["email_sha256"] == digest
    assert digest in record.getMessage()
    text = _everything_in(record)
    assert SECRET_GUESS not in text
    assert email.split("@")[0] not in text.lower()


async def test_a_malformed_login_is_audited_too(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="audit")
    resp = await client.post("/token/", data={"username": "x" * 400, "password": SECRET_GUESS})
    assert resp.status == 422
    (record,) = _audit(caplog)
    assert record.__dict__["event"] == "login_failed"
    assert record.__dict__["reason"] == "invalid_request"
    assert SECRET_GUESS not in _everything_in(record)


async def test_a_good_login_writes_no_audit_line(
    client: Client, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="audit")
    resp = await client.post("/token/", data={"username": user.email, "password": PASSWORD})
    assert resp.status == 200
    assert _audit(caplog) == []
