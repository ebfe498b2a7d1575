"""One email normalisation for register and login: case, Unicode NFC, IDNA, spaces."""

from __future__ import annotations

import unicodedata
import uuid

import pytest

from tests.support.api_client import PASSWORD, Client


def _tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.mark.parametrize(
    ("registered", "login"),
    [
        pytest.param("  Ada.{t}@Example.COM ", "ada.{t}@example.com", id="spaces-and-case"),
        pytest.param("ada.{t}@example.com", "  ADA.{t}@EXAMPLE.COM  ", id="login-spaces-and-case"),
        pytest.param("user.{t}@bücher.example", "user.{t}@xn--bcher-kva.example", id="idna"),
        pytest.param("user.{t}@xn--bcher-kva.example", "user.{t}@BÜCHER.example", id="idna-back"),
        pytest.param(
            unicodedata.normalize("NFD", "josé.{t}@example.com"),
            unicodedata.normalize("NFC", "JOSÉ.{t}@example.com"),
            id="nfd-vs-nfc",
        ),
    ],
)
async def test_an_address_registered_one_way_logs_in_another(
    client: Client, registered: str, login: str
) -> None:
    tag = _tag()
    resp = await client.post(
        "/register/", json={"email": registered.format(t=tag), "password": PASSWORD}
    )
    assert resp.status == 201, await resp.text()
    resp = await client.post(
        "/token/", data={"username": login.format(t=tag), "password": PASSWORD}
    )
    assert resp.status == 200, await resp.text()


async def test_spellings_of_one_address_are_one_account(client: Client) -> None:
    tag = _tag()
    first = f"zoë.{tag}@bücher.example"
    resp = await client.post("/register/", json={"email": first, "password": PASSWORD})
    assert resp.status == 201
    assert (await resp.json())["email"] == first
    again = unicodedata.normalize("NFD", f" ZOË.{tag}@xn--bcher-kva.EXAMPLE ")
    resp = await client.post("/register/", json={"email": again, "password": PASSWORD})
    assert resp.status == 400
    assert await resp.json() == {"detail": "email already registered"}
