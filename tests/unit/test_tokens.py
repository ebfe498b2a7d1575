"""Access tokens: round trip, and every kind of bad token refused as InvalidToken."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import orjson
import pytest

from api.tokens import Tokens
from core.errors import InvalidToken
from service import app
from tests.support.settings import make_settings

SECRET = "unit-test-secret-that-is-long-enough-0123456789"
TOKENS = Tokens(secret=SECRET, issuer="orders", audience="orders-api", ttl=timedelta(minutes=30))


def _claims(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": "42",
        "exp": now + timedelta(minutes=5),
        "iat": now,
        "iss": "orders",
        "aud": "orders-api",
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_round_trip() -> None:
    assert TOKENS.verify(TOKENS.issue(42)) == 42


def test_claims_of_an_issued_token() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    token = TOKENS.issue(7, now=now)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert claims["sub"] == "7"
    assert claims["iat"] == int(now.timestamp())
    assert claims["exp"] == int((now + timedelta(minutes=30)).timestamp())
    assert (claims["iss"], claims["aud"]) == ("orders", "orders-api")
    assert len(claims["jti"]) == 32
    assert (
        claims["jti"]
        != jwt.decode(TOKENS.issue(7, now=now), options={"verify_signature": False})["jti"]
    )


def test_from_settings_uses_secret_lifetime_issuer_and_audience() -> None:
    settings = make_settings(access_token_expire_minutes=5, jwt_issuer="me", jwt_audience="you")
    tokens = app.tokens(settings)
    assert tokens.expires_in == 300
    claims = jwt.decode(
        tokens.issue(1),
        settings.secret_key.get_secret_value(),
        algorithms=["HS256"],
        audience="you",
        issuer="me",
    )
    assert claims["exp"] - claims["iat"] == 300


def test_expired() -> None:
    token = TOKENS.issue(42, now=datetime.now(UTC) - timedelta(minutes=31))
    with pytest.raises(InvalidToken):
        TOKENS.verify(token)


def test_a_few_seconds_of_clock_skew_are_tolerated() -> None:
    """A token issued by a host whose clock runs 5 s ahead, or just expired 5 s ago."""
    ahead = TOKENS.issue(42, now=datetime.now(UTC) + timedelta(seconds=5))
    assert TOKENS.verify(ahead) == 42
    just_expired = TOKENS.issue(42, now=datetime.now(UTC) - timedelta(minutes=30, seconds=5))
    assert TOKENS.verify(just_expired) == 42


@pytest.mark.parametrize("skew", [timedelta(seconds=60), timedelta(seconds=-60)])
def test_more_skew_than_the_leeway_is_refused(skew: timedelta) -> None:
    issued = datetime.now(UTC) + skew
    if skew < timedelta(0):
        issued -= timedelta(minutes=30)  # expired a minute ago
    with pytest.raises(InvalidToken):
        TOKENS.verify(TOKENS.issue(42, now=issued))


def test_tampered_signature() -> None:
    head, payload, signature = TOKENS.issue(42).split(".")
    forged = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(InvalidToken):
        TOKENS.verify(f"{head}.{payload}.{forged}")


def test_tampered_payload() -> None:
    head, _, signature = TOKENS.issue(42).split(".")
    payload = _b64(orjson.dumps({**_claims(), "sub": "1"}, default=str))
    with pytest.raises(InvalidToken):
        TOKENS.verify(f"{head}.{payload}.{signature}")


def test_alg_none() -> None:
    header = _b64(orjson.dumps({"alg": "none", "typ": "JWT"}))
    claims = _claims(exp=4102444800, iat=0)
    token = f"{header}.{_b64(orjson.dumps(claims))}."
    with pytest.raises(InvalidToken):
        TOKENS.verify(token)


# HS512 wants a 64-byte key; signing the forgery with our 47-byte secret warns, and that is fine.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_algorithm_with_the_same_secret() -> None:
    with pytest.raises(InvalidToken):
        TOKENS.verify(_sign(_claims(), algorithm="HS512"))


def test_other_secret() -> None:
    with pytest.raises(InvalidToken):
        TOKENS.verify(_sign(_claims(), secret="another-secret-that-is-long-enough-012345"))


@pytest.mark.parametrize("changes", [{"aud": "someone-else"}, {"iss": "someone-else"}])
def test_wrong_audience_or_issuer(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        TOKENS.verify(_sign(_claims(**changes)))


@pytest.mark.parametrize("claim", ["sub", "exp", "iat", "iss", "aud", "jti"])
def test_missing_claim(claim: str) -> None:
    assert TOKENS.verify(_sign(_claims())) == 42  # the full set is accepted
    with pytest.raises(InvalidToken):
        TOKENS.verify(_sign(_claims(**{claim: None})))


@pytest.mark.parametrize("sub", ["abc", "-1", "", "4 2", "١٢"])
def test_sub_that_is_not_a_user_id(sub: str) -> None:
    with pytest.raises(InvalidToken):
        TOKENS.verify(_sign(_claims(sub=sub)))


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b", "....", "Bearer x"])
def test_garbage(token: str) -> None:
    with pytest.raises(InvalidToken):
        TOKENS.verify(token)


class Clock:
    """A settable clock for the remembered tokens' expiry check."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def _remembering(clock: Clock, remembered: int = 8) -> Tokens:
    return Tokens(
        secret=SECRET,
        issuer="orders",
        audience="orders-api",
        ttl=timedelta(minutes=30),
        remembered=remembered,
        clock=clock,
    )


def test_a_token_verified_once_is_answered_again_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = _remembering(Clock())
    token = tokens.issue(42)
    assert tokens.verify(token) == 42

    def no_decoding(*_: object, **__: object) -> None:
        raise AssertionError("decoded again")

    monkeypatch.setattr(jwt, "decode", no_decoding)
    assert tokens.verify(token) == 42


def test_a_remembered_token_past_its_expiry_and_the_leeway_is_refused() -> None:
    clock = Clock()
    tokens = _remembering(clock)
    token = tokens.issue(42)
    assert tokens.verify(token) == 42
    clock.now += 30 * 60 + 9  # inside the 10 s leeway
    assert tokens.verify(token) == 42
    clock.now += 1
    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify(token)
    with pytest.raises(InvalidToken):  # forgotten, and refused in full (its exp is past)
        Tokens(
            secret=SECRET,
            issuer="orders",
            audience="orders-api",
            ttl=timedelta(minutes=30),
            clock=clock,
        ).verify(tokens.issue(42, now=datetime.now(UTC) - timedelta(minutes=31)))


def test_a_tampered_copy_of_a_remembered_token_is_verified_in_full() -> None:
    tokens = _remembering(Clock())
    token = tokens.issue(42)
    assert tokens.verify(token) == 42
    header, payload, signature = token.split(".")
    forged = _b64(
        orjson.dumps({**jwt.decode(token, options={"verify_signature": False}), "sub": "1"})
    )
    with pytest.raises(InvalidToken):
        tokens.verify(f"{header}.{forged}.{signature}")
    with pytest.raises(InvalidToken):
        tokens.verify(f"{header}.{payload}.{signature[:-2]}AA")


def test_refused_tokens_are_not_remembered_and_the_oldest_is_forgotten_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = _remembering(Clock(), remembered=2)
    decoded: list[str] = []
    decode = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    for _ in range(2):
        with pytest.raises(InvalidToken):
            tokens.verify("not-a-token")
    first, second, third = (tokens.issue(n) for n in (1, 2, 3))
    for token in (first, second, third, second, third, first):
        tokens.verify(token)
    assert decoded == ["not-a-token", "not-a-token", first, second, third, first]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("a\udcffb", id="undecodable-byte"),  # how aiohttp hands over b"a\xffb"
        pytest.param("é.é.é", id="non-ascii"),
        pytest.param("a" * 10_000, id="10000-chars"),
        pytest.param("", id="empty"),
    ],
)
def test_text_that_cannot_be_a_token_is_invalid(token: str) -> None:
    with pytest.raises(InvalidToken):
        TOKENS.verify(token)
