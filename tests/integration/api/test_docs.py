"""GET /docs (Swagger UI, local assets only) and GET /openapi.json (OpenAPI 3.1)."""

from __future__ import annotations

import re
from typing import Any

from api.schemas.orders import OrderOut
from tests.support.api_client import Client, User, create_order

CONTRACT = {
    "/health": {"get"},
    "/ready": {"get"},
    "/register/": {"post"},
    "/token/": {"post"},
    "/orders/": {"post"},
    "/orders/{order_id}/": {"get", "patch"},
    "/orders/user/{user_id}/": {"get"},
    "/orders/{order_id}/history/": {"get"},
}
# Every operation behind the rate limiter may answer 429, and 503 (a database timeout or
# a saturated dependency); every one with a body may answer 413.
ERRORS = {
    ("/register/", "post"): {"400", "413", "422", "429", "503"},
    ("/token/", "post"): {"401", "413", "422", "429", "503"},
    ("/orders/", "post"): {"401", "409", "413", "422", "429", "503"},
    ("/orders/{order_id}/", "get"): {"401", "403", "404", "429", "503"},
    ("/orders/{order_id}/", "patch"): {
        "401",
        "403",
        "404",
        "409",
        "412",
        "413",
        "422",
        "429",
        "503",
    },
    ("/orders/user/{user_id}/", "get"): {"401", "403", "422", "429", "503"},
    ("/orders/{order_id}/history/", "get"): {"401", "403", "404", "410", "429", "503"},
}


async def _document(client: Client) -> dict[str, Any]:
    resp = await client.get("/openapi.json")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    body: dict[str, Any] = await resp.json()
    return body


async def test_docs_is_swagger_ui_with_local_assets_only(client: Client) -> None:
    for path in ("/docs", "/docs/"):
        resp = await client.get(path)
        assert resp.status == 200
        assert resp.content_type == "text/html"
    html = await resp.text()
    assert "SwaggerUIBundle" in html
    assert '"/openapi.json"' in html
    assert "http://" not in html
    assert "https://" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/docs/static/"), asset
        resp = await client.get(asset)
        assert resp.status == 200, asset
        assert len(await resp.read()) > 0


async def test_openapi_is_3_1_and_lists_every_route(client: Client) -> None:
    doc = await _document(client)
    assert doc["openapi"].startswith("3.1")
    assert {p: set(ops) for p, ops in doc["paths"].items()} == CONTRACT


async def test_openapi_documents_every_error_and_the_bearer_scheme(client: Client) -> None:
    doc = await _document(client)
    scheme = doc["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/token/"
    for (path, method), errors in ERRORS.items():
        op = doc["paths"][path][method]
        assert errors <= set(op["responses"]), (path, method)
        for status in errors:
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            expected = "HTTPValidationError" if status == "422" else "HTTPError"
            assert schema == {"$ref": f"#/components/schemas/{expected}"}
        assert ("security" in op) == path.startswith("/orders/")
    token_body = doc["paths"]["/token/"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in token_body
    params = {p["name"]: p for p in doc["paths"]["/orders/user/{user_id}/"]["get"]["parameters"]}
    assert set(params) == {"user_id", "limit", "status", "cursor"}
    assert params["limit"]["schema"]["maximum"] == 200
    assert doc["paths"]["/ready"]["get"]["responses"].keys() >= {"200", "503"}


async def test_openapi_refs_all_resolve(client: Client) -> None:
    doc = await _document(client)
    schemas = doc["components"]["schemas"]
    refs = re.findall(r'"\$ref": ?"#/components/schemas/([^"]+)"', str(doc).replace("'", '"'))
    assert refs
    assert set(refs) <= set(schemas)
    assert {"OrderIn", "OrderOut", "RegisterIn", "StatusIn", "OrderStatus"} <= set(schemas)
    order_in = schemas["OrderIn"]
    assert order_in["additionalProperties"] is False
    assert order_in["properties"]["items"]["maxItems"] == 100
    assert schemas["OrderStatus"]["enum"] == ["PENDING", "PAID", "SHIPPED", "CANCELED"]


async def test_documented_order_shape_matches_responses(client: Client, user: User) -> None:
    order = await create_order(client, user)
    assert OrderOut.model_validate(order).model_dump(mode="json").keys() == order.keys()


async def test_the_document_states_the_rules_the_code_applies(client: Client) -> None:
    """What schemathesis found the document and the code disagreeing on."""
    doc = await _document(client)
    schemas = doc["components"]["schemas"]
    number, text = schemas["OrderItemIn"]["properties"]["price"]["anyOf"]
    assert number["multipleOf"] == 0.01
    assert number["maximum"] == 9999999999.99
    assert text["pattern"]
    item = schemas["OrderItemIn"]["properties"]
    assert item["product_id"]["maximum"] == 2**63 - 1
    assert item["quantity"]["minimum"] == 1
    email = schemas["RegisterIn"]["properties"]["email"]
    assert "pattern" in email["not"]
    params = {p["name"]: p for p in doc["paths"]["/orders/user/{user_id}/"]["get"]["parameters"]}
    cursor = params["cursor"]["schema"]
    assert {"type": "string", "pattern": "^[A-Za-z0-9_-]{32}$"} in cursor.get("anyOf", [cursor])
    create = doc["paths"]["/orders/"]["post"]
    assert {p["name"] for p in create["parameters"]} == {"Idempotency-Key"}
    patch = doc["paths"]["/orders/{order_id}/"]["patch"]
    assert "If-Match" in {p["name"] for p in patch["parameters"]}
    assert "ETag" in patch["responses"]["200"]["headers"]


async def test_links_chain_register_token_create_get_patch_list(client: Client) -> None:
    paths = (await _document(client))["paths"]
    register = paths["/register/"]["post"]["responses"]["201"]["links"]
    assert register["GetToken"]["operationId"] == "token"
    create = paths["/orders/"]["post"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in create.values()} == {
        "get_order",
        "change_order_status",
        "get_order_history",
        "list_user_orders",
    }
    get = paths["/orders/{order_id}/"]["get"]["responses"]["200"]["links"]
    assert "change_order_status" in {link["operationId"] for link in get.values()}
