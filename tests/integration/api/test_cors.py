"""CORS from settings: preflights from allowed origins get the Allow headers, others none."""

from __future__ import annotations

from tests.support.api_client import ITEMS, MakeClient, register

ORIGIN = "https://shop.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "Authorization, Content-Type",
}


async def test_preflight_from_allowed_origin_is_200_with_allow_headers(
    make_client: MakeClient,
) -> None:
    client = await make_client(cors_allow_origins=f"{ORIGIN}, https://admin.example")
    for path in ("/orders/", "/orders", "/token/", "/register"):
        resp = await client.options(path, headers={"Origin": ORIGIN, **PREFLIGHT})
        assert resp.status == 200, path
        assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "POST" in resp.headers["Access-Control-Allow-Methods"]
        allowed = resp.headers["Access-Control-Allow-Headers"].upper()
        assert "AUTHORIZATION" in allowed
        assert "CONTENT-TYPE" in allowed
        assert "Access-Control-Allow-Credentials" not in resp.headers


async def test_preflight_from_other_origin_gets_no_allow_headers(make_client: MakeClient) -> None:
    client = await make_client(cors_allow_origins=ORIGIN)
    resp = await client.options("/orders/", headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert not any(h.lower().startswith("access-control-allow") for h in resp.headers)
    assert resp.status >= 400
    assert "detail" in await resp.json()


async def test_actual_request_from_allowed_origin_exposes_location(
    make_client: MakeClient,
) -> None:
    client = await make_client(cors_allow_origins=ORIGIN, cors_allow_credentials=True)
    user = await register(client)
    resp = await client.post(
        "/orders/", json={"items": ITEMS}, headers={**user.headers, "Origin": ORIGIN}
    )
    assert resp.status == 201
    assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert resp.headers["Access-Control-Allow-Credentials"] == "true"
    exposed = resp.headers["Access-Control-Expose-Headers"].upper()
    assert "LOCATION" in exposed
    assert "X-REQUEST-ID" in exposed


async def test_wildcard_origin_answers_a_literal_star(make_client: MakeClient) -> None:
    client = await make_client(cors_allow_origins="*")
    resp = await client.options("/orders/", headers={"Origin": ORIGIN, **PREFLIGHT})
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in resp.headers
    resp = await client.get("/health", headers={"Origin": ORIGIN})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


async def test_no_origins_configured_means_no_cors(make_client: MakeClient) -> None:
    client = await make_client(cors_allow_origins="")
    resp = await client.get("/health", headers={"Origin": ORIGIN})
    assert resp.status == 200
    assert "Access-Control-Allow-Origin" not in resp.headers
