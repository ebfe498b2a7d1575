"""nosniff everywhere; no-store on the token and on every answer with user data; Vary: Origin."""

from __future__ import annotations

from typing import Any

from tests.support.api_client import PASSWORD, Client, MakeClient, User, random_email


async def test_every_response_says_nosniff(client: Client, user: User) -> None:
    for path in ("/health", "/docs", "/openapi.json", "/docs/static/swagger-ui.css", "/nope"):
        resp = await client.get(path)
        assert resp.headers["X-Content-Type-Options"] == "nosniff", path
    resp = await client.get(f"/orders/user/{user.id}/", headers=user.headers)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_token_response_is_never_stored(client: Client) -> None:
    email = random_email()
    await client.post("/register/", json={"email": email, "password": PASSWORD})
    resp = await client.post("/token/", data={"username": email, "password": PASSWORD})
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-store"


async def test_responses_with_user_data_are_never_stored(
    client: Client, user: User, order: dict[str, Any]
) -> None:
    answers = [
        await client.post("/register/", json={"email": random_email(), "password": PASSWORD}),
        await client.get(f"/orders/{order['id']}/", headers=user.headers),
        await client.patch(
            f"/orders/{order['id']}/", json={"status": "PAID"}, headers=user.headers
        ),
        await client.get(f"/orders/user/{user.id}/", headers=user.headers),
        await client.post("/orders/", json={"items": order["items"]}, headers=user.headers),
        await client.get(f"/orders/{order['id']}/", headers={"Authorization": "Bearer x"}),
    ]
    for resp in answers:
        assert resp.headers["Cache-Control"] == "no-store", resp.url


async def test_public_documents_may_be_cached(client: Client) -> None:
    for path in ("/openapi.json", "/docs", "/docs/static/swagger-ui.css"):
        resp = await client.get(path)
        assert "no-store" not in resp.headers.get("Cache-Control", ""), path


async def test_cors_answers_vary_on_origin(make_client: MakeClient) -> None:
    client = await make_client(cors_allow_origins="http://app.example")
    for headers in ({"Origin": "http://app.example"}, {"Origin": "http://evil.example"}, {}):
        resp = await client.get("/health", headers=headers)
        assert "Origin" in [v.strip() for v in resp.headers["Vary"].split(",")], headers
    preflight = await client.options(
        "/orders/",
        headers={"Origin": "http://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Origin" in preflight.headers["Vary"]
