"""POST /register/ and POST /token/ (OAuth2 password flow)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from service import app
from tests.support.api_client import (
    PASSWORD,
    Client,
    MakeClient,
    random_email,
    register,
)
from tests.support.settings import make_settings


async def test_register_returns_201_with_id_and_email(client: Client) -> None:
    email = random_email()
    resp = await client.post("/register/", json={"email": email, "password": PASSWORD})
    assert resp.status == 201
    body = await resp.json()
    assert set(body) == {"id", "email"}
    assert isinstance(body["id"], int)
    assert body["email"] == email


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"email": "not-an-email", "password": PASSWORD}, id="bad-email"),
        pytest.param({"email": "{email}", "password": "7chars!"}, id="password-7"),
        pytest.param({"email": "{email}", "password": "x" * 257}, id="password-257"),
        pytest.param({"password": PASSWORD}, id="missing-email"),
        pytest.param({"email": "{email}"}, id="missing-password"),
        pytest.param({"email": "{email}", "password": PASSWORD, "is_admin": True}, id="unknown"),
    ],
)
async def test_register_rejects_invalid_input_with_422(
    client: Client, payload: dict[str, Any]
) -> None:
    email = random_email()
    body = {k: (email if v == "{email}" else v) for k, v in payload.items()}
    resp = await client.post("/register/", json=body)
    assert resp.status == 422
    detail = (await resp.json())["detail"]
    assert detail, "a 422 lists its errors"
    for err in detail:
        assert set(err) == {"loc", "msg", "type"}
        assert err["loc"][0] == "body"
        assert isinstance(err["msg"], str)
        assert isinstance(err["type"], str)


async def test_register_names_the_bad_field(client: Client) -> None:
    resp = await client.post("/register/", json={"email": random_email(), "password": "short"})
    detail = (await resp.json())["detail"]
    assert [e["loc"] for e in detail] == [["body", "password"]]
    assert detail[0]["type"] == "string_too_short"


async def test_register_accepts_password_of_8_and_256(client: Client) -> None:
    for password in ("x" * 8, "x" * 256):
        resp = await client.post("/register/", json={"email": random_email(), "password": password})
        assert resp.status == 201, await resp.text()


async def test_register_unknown_field_is_extra_forbidden(client: Client) -> None:
    resp = await client.post(
        "/register/", json={"email": random_email(), "password": PASSWORD, "role": "admin"}
    )
    assert resp.status == 422
    assert (await resp.json())["detail"] == [
        {
            "loc": ["body", "role"],
            "msg": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        }
    ]


@pytest.mark.parametrize("raw", [b"{not json", b""])
async def test_register_bad_or_empty_json_is_422(client: Client, raw: bytes) -> None:
    resp = await client.post("/register/", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status == 422
    [err] = (await resp.json())["detail"]
    assert err["loc"] == ["body"]
    assert err["type"] == ("missing" if not raw else "json_invalid")


async def test_register_same_email_in_other_case_is_400(client: Client) -> None:
    email = random_email()
    await register(client, email)
    resp = await client.post("/register/", json={"email": email.upper(), "password": PASSWORD})
    assert resp.status == 400
    assert await resp.json() == {"detail": "email already registered"}


async def test_token_returns_bearer_token_for_the_user(client: Client) -> None:
    email = random_email()
    user = await register(client, email)
    resp = await client.post("/token/", data={"username": email.upper(), "password": PASSWORD})
    assert resp.status == 200
    body = await resp.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    settings = make_settings()
    assert body["expires_in"] == settings.access_token_expire_minutes * 60
    assert app.tokens(settings).verify(body["access_token"]) == user.id


async def test_token_with_json_body_is_422_missing_fields(client: Client) -> None:
    email = random_email()
    await register(client, email)
    resp = await client.post("/token/", json={"username": email, "password": PASSWORD})
    assert resp.status == 422
    detail = (await resp.json())["detail"]
    assert sorted((tuple(e["loc"]), e["type"]) for e in detail) == [
        (("body", "password"), "missing"),
        (("body", "username"), "missing"),
    ]


async def test_token_missing_password_is_422(client: Client) -> None:
    resp = await client.post("/token/", data={"username": random_email()})
    assert resp.status == 422
    assert (await resp.json())["detail"] == [
        {"loc": ["body", "password"], "msg": "Field required", "type": "missing"}
    ]


async def test_token_unknown_email_and_wrong_password_look_alike(client: Client) -> None:
    email = random_email()
    await register(client, email)
    wrong = await client.post("/token/", data={"username": email, "password": PASSWORD + "x"})
    unknown = await client.post("/token/", data={"username": random_email(), "password": PASSWORD})
    for resp in (wrong, unknown):
        assert resp.status == 401
        assert await resp.json() == {"detail": "incorrect email or password"}
        assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert await wrong.read() == await unknown.read()


async def test_token_unknown_email_costs_as_much_as_a_wrong_password(
    make_client: MakeClient,
) -> None:
    """Both verify an argon2id hash (a dummy one for an unknown email): no timing oracle.

    The two kinds of attempt alternate, so drift on a shared machine hits both alike;
    their medians must agree within 15 % in one of up to five rounds.
    """
    client = await make_client(password_hash_memory_kib=19 * 1024, password_hash_time_cost=2)
    user = await register(client)

    async def seconds(username: str) -> float:
        started = time.perf_counter()
        resp = await client.post("/token/", data={"username": username, "password": "wrong pw!"})
        elapsed = time.perf_counter() - started
        assert resp.status == 401
        return elapsed

    async def ratio() -> float:
        """The median over 25 back-to-back pairs of unknown-email / wrong-password time."""
        pairs = [await seconds(random_email()) / await seconds(user.email) for _ in range(25)]
        return statistics.median(pairs)

    await seconds(random_email())  # warm up: the dummy hash is made on first use
    # Other processes share the cores (CI runs beside whatever else the machine does): a
    # round may be disturbed, so up to five rounds. A skipped hash would make the unknown
    # email ~50x faster (argon2id costs tens of ms): every round would be far off, not one.
    ratios = []
    for _ in range(5):
        ratios.append(await ratio())
        assert 0.5 <= ratios[-1] <= 2.0, ratios  # an oracle fails here at once
        if 0.85 <= ratios[-1] <= 1.15:
            break
    assert 0.85 <= ratios[-1] <= 1.15, ratios
