"""Bearer authentication on every protected route: 401 with `WWW-Authenticate: Bearer`."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import orjson
import pytest

from api.tokens import Tokens
from tests.support.api_client import Client, User
from tests.support.settings import make_settings

SECRET = make_settings().secret_key.get_secret_value()


def _routes(user_id: int) -> list[tuple[str, str, dict[str, object] | None]]:
    order_id = uuid.uuid4()
    return [
        ("POST", "/orders/", {"items": [{"product_id": 1, "quantity": 1, "price": 1}]}),
        ("GET", f"/orders/{order_id}/", None),
        ("PATCH", f"/orders/{order_id}/", {"status": "PAID"}),
        ("GET", f"/orders/user/{user_id}/", None),
    ]


def _claims(user_id: int, **overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": "orders",
        "aud": "orders-api",
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _alg_none(user_id: int) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(orjson.dumps({"alg": "none", "typ": "JWT"}))
    payload = b64(orjson.dumps(_claims(user_id, iat=0, exp=4102444800)))
    return f"{header}.{payload}."


def _bad_tokens(user: User) -> dict[str, str]:
    head, payload, signature = user.token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    past = datetime.now(UTC) - timedelta(hours=1)
    return {
        "garbage": "not-a-jwt",
        "tampered-signature": f"{head}.{payload}.{flipped}",
        "other-secret": jwt.encode(_claims(user.id), "x" * 40, algorithm="HS256"),
        "expired": Tokens(
            secret=SECRET, issuer="orders", audience="orders-api", ttl=timedelta(minutes=1)
        ).issue(user.id, now=past),
        "alg-none": _alg_none(user.id),
        "wrong-audience": jwt.encode(_claims(user.id, aud="other"), SECRET, algorithm="HS256"),
        "missing-sub": jwt.encode(_claims(user.id, sub=None), SECRET, algorithm="HS256"),
    }


async def test_missing_header_is_401_not_authenticated(client: Client, user: User) -> None:
    for method, path, body in _routes(user.id):
        resp = await client.request(method, path, json=body)
        assert resp.status == 401, (method, path)
        assert await resp.json() == {"detail": "Not authenticated"}
        assert resp.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "token abc"])
async def test_other_schemes_are_not_authenticated(client: Client, user: User, header: str) -> None:
    resp = await client.get(f"/orders/user/{user.id}/", headers={"Authorization": header})
    assert resp.status == 401
    assert await resp.json() == {"detail": "Not authenticated"}
    assert resp.headers["WWW-Authenticate"] == "Bearer"


async def test_bad_tokens_are_401_on_every_route(client: Client, user: User) -> None:
    for name, token in _bad_tokens(user).items():
        for method, path, body in _routes(user.id):
            resp = await client.request(
                method, path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert resp.status == 401, (name, method, path)
            assert await resp.json() == {"detail": "could not validate credentials"}
            assert resp.headers["WWW-Authenticate"] == "Bearer"


async def test_valid_token_authenticates_without_a_database_user_lookup(
    client: Client, user: User
) -> None:
    # A token signed here carries the user id; the route trusts it without asking the DB.
    token = jwt.encode(_claims(user.id), SECRET, algorithm="HS256")
    resp = await client.get(
        f"/orders/user/{user.id}/", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 200
