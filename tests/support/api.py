"""A small client for the Orders HTTP API, as an external user calls it."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp


class ApiUser:
    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base = base_url.rstrip("/")
        self.token = ""
        self.user_id = 0
        self.email = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def sign_up(self) -> ApiUser:
        email = self.email = f"user-{uuid.uuid4().hex[:12]}@example.com"
        password = "correct horse battery staple"
        async with self.session.post(
            f"{self.base}/register/", json={"email": email, "password": password}
        ) as resp:
            assert resp.status == 201, await resp.text()
            self.user_id = (await resp.json())["id"]
        async with self.session.post(
            f"{self.base}/token/", data={"username": email, "password": password}
        ) as resp:
            assert resp.status == 200, await resp.text()
            self.token = (await resp.json())["access_token"]
        return self

    async def create_order(self, n_items: int = 2, request_id: str | None = None) -> dict[str, Any]:
        items = [{"product_id": i + 1, "quantity": i + 1, "price": 9.99} for i in range(n_items)]
        headers = {**self.headers, **({"X-Request-ID": request_id} if request_id else {})}
        async with self.session.post(
            f"{self.base}/orders/", json={"items": items}, headers=headers
        ) as resp:
            assert resp.status == 201, await resp.text()
            body: dict[str, Any] = await resp.json()
            return body

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(f"{self.base}{path}", headers=self.headers) as resp:
            return resp.status, await resp.json()

    async def patch_status(self, order_id: str, status: str) -> tuple[int, Any]:
        async with self.session.patch(
            f"{self.base}/orders/{order_id}/", json={"status": status}, headers=self.headers
        ) as resp:
            return resp.status, await resp.json()
