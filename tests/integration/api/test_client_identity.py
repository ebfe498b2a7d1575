"""Client identity that cannot be bought: IPv6 by prefix, and every X-Forwarded-For line.

The test client connects from 127.0.0.1, configured as a trusted proxy, so the addresses
in X-Forwarded-For are the clients the limiter tells apart.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from tests.support.api_client import PASSWORD, Client, MakeClient, limited, random_email

PROXY = "127.0.0.1/32"


def proxied(**overrides: Any) -> dict[str, Any]:
    """Behind a trusted proxy, with the production size of the credentials buckets (10)."""
    values = {"trusted_proxies": PROXY, "auth_rate_limit_capacity": 10, **overrides}
    return limited(**values)


def addresses_of(network: str, n: int) -> list[str]:
    net = ipaddress.ip_network(network)
    return [str(net[random.randrange(net.num_addresses)]) for _ in range(n)]


async def _register_from(client: Client, headers: Any) -> int:
    resp = await client.post(
        "/register/", json={"email": random_email(), "password": PASSWORD}, headers=headers
    )
    return resp.status


async def test_ipv6_addresses_of_one_64_share_a_bucket(make_client: MakeClient) -> None:
    """/register/'s per-address bucket: 10 attempts, whichever addresses of the /64."""
    client = await make_client(**proxied(rate_limit_enabled=False))
    statuses = [
        await _register_from(client, {"X-Forwarded-For": address})
        for address in addresses_of("2001:db8:1:2::/64", 16)
    ]
    assert statuses[:10] == [201] * 10
    assert statuses[10:] == [429] * 6, "16 addresses of one /64 are one client"
    other = await _register_from(client, {"X-Forwarded-For": "2001:db8:1:3::1"})
    assert other == 201, "the next /64 is another client"


async def test_ipv6_clients_share_the_general_bucket_by_prefix(make_client: MakeClient) -> None:
    client = await make_client(**proxied())
    statuses = [
        (await client.get("/orders/user/1/", headers={"X-Forwarded-For": address})).status
        for address in addresses_of("2001:db8:aa:bb::/64", 16)
    ]
    assert statuses == [401] * 5 + [429] * 11


async def test_the_ipv6_prefix_is_a_setting(make_client: MakeClient) -> None:
    client = await make_client(**proxied(rate_limit_capacity=2, rate_limit_ipv6_prefix=48))
    statuses = [
        (await client.get("/orders/user/1/", headers={"X-Forwarded-For": address})).status
        for address in ("2001:db8:7:1::1", "2001:db8:7:2::1", "2001:db8:7:3::1")
    ]
    assert statuses == [401, 401, 429], "a /48 is one client"


async def test_an_ipv4_mapped_address_is_its_ipv4_client(make_client: MakeClient) -> None:
    client = await make_client(**proxied(rate_limit_capacity=2))
    statuses = [
        (await client.get("/orders/user/1/", headers={"X-Forwarded-For": address})).status
        for address in ("198.51.100.9", "::ffff:198.51.100.9", "::ffff:c633:6409")
    ]
    assert statuses == [401, 401, 429]


async def test_every_forwarded_for_line_is_read(make_client: MakeClient) -> None:
    """The client writes a line of its own; the trusted proxy appends its line (HAProxy
    does): the rightmost untrusted hop, on the proxy's line, is the client."""
    client = await make_client(**proxied(rate_limit_enabled=False))
    statuses = []
    for spoofed in addresses_of("10.0.0.0/8", 16):
        headers = [("X-Forwarded-For", spoofed), ("X-Forwarded-For", "203.0.113.9")]
        statuses.append(await _register_from(client, headers))
    assert statuses[:10] == [201] * 10
    assert statuses[10:] == [429] * 6, "a line the client wrote buys no fresh bucket"


async def test_a_trusted_hop_on_the_last_line_is_skipped(make_client: MakeClient) -> None:
    client = await make_client(
        **proxied(
            rate_limit_enabled=False,
            trusted_proxies=f"{PROXY},10.9.0.0/16",
            auth_rate_limit_capacity=2,
        )
    )
    statuses = []
    for spoofed in addresses_of("192.0.2.0/24", 3):
        headers = [
            ("X-Forwarded-For", spoofed),
            ("X-Forwarded-For", "203.0.113.10, 10.9.0.1"),
        ]
        statuses.append(await _register_from(client, headers))
    assert statuses == [201, 201, 429]
