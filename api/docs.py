"""Swagger UI at /docs and the OpenAPI document at /openapi.json, all served locally.

Swagger UI 5 comes from the `swagger-ui-bundle-v2` package (it renders OpenAPI 3.1);
its assets are static files of this service, so the page needs no CDN.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

from api.operations import Operation, add_routes

ASSETS = "/docs/static"

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{title}}</title>
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="{ASSETS}/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "BaseLayout",
      oauth2RedirectUrl: window.location.origin + "{ASSETS}/oauth2-redirect.html"
    }});
  </script>
</body>
</html>
"""


def docs_operations(document: dict[str, Any]) -> list[Operation]:
    """The two routes, answering from the document and page rendered once, here."""
    body = orjson.dumps(document)
    page = _PAGE.replace("{title}", str(document["info"]["title"]))

    async def openapi_json(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async def swagger_ui(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    return [
        Operation(
            "GET", "/openapi.json", openapi_json, "openapi", "The OpenAPI 3.1 document", "docs"
        ),
        Operation(
            "GET", "/docs", swagger_ui, "docs", "Swagger UI", "docs", content_type="text/html"
        ),
    ]


def setup_docs(app: web.Application, document: dict[str, Any]) -> None:
    add_routes(app, docs_operations(document))
    app.router.add_static(ASSETS, swagger_ui_path)
