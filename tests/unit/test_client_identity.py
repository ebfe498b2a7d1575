"""Who the client is: the peer, or the rightmost untrusted X-Forwarded-For hop behind a
trusted proxy; an IPv6 client by its prefix."""

from __future__ import annotations

import ipaddress

import pytest

from api.clients import client_identity

PROXIES = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.9.0.0/16"))


def who(peer: str | None, *lines: str, prefix: int = 64) -> str:
    return client_identity(peer, lines, PROXIES, ipv6_prefix=prefix)


def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert who("198.51.100.1", "203.0.113.7") == "198.51.100.1"


def test_a_trusted_peer_names_the_rightmost_untrusted_hop() -> None:
    assert who("127.0.0.1", "203.0.113.7") == "203.0.113.7"
    assert who("127.0.0.1", "192.0.2.1, 203.0.113.7, 10.9.0.1") == "203.0.113.7"


def test_every_line_is_read_in_order() -> None:
    assert who("127.0.0.1", "192.0.2.1", "203.0.113.7") == "203.0.113.7"
    assert who("127.0.0.1", "192.0.2.1", "203.0.113.7, 10.9.0.2", "10.9.0.1") == "203.0.113.7"


def test_garbage_stops_the_walk_at_the_nearest_trusted_hop() -> None:
    assert who("127.0.0.1", "203.0.113.7, not-an-address, 10.9.0.1") == "10.9.0.1"
    assert who("127.0.0.1", "unknown") == "127.0.0.1"
    assert who("127.0.0.1", "") == "127.0.0.1"


def test_no_header_from_a_trusted_peer_is_the_peer() -> None:
    assert who("127.0.0.1") == "127.0.0.1"


def test_all_hops_trusted_is_the_leftmost() -> None:
    assert who("127.0.0.1", "10.9.0.5, 10.9.0.1") == "10.9.0.5"


@pytest.mark.parametrize(
    ("hop", "client"),
    [
        ("203.0.113.7:4711", "203.0.113.7"),
        ("[2001:db8::1]:443", "2001:db8::/64"),
        (" 203.0.113.7 ", "203.0.113.7"),
    ],
)
def test_ports_and_brackets_are_dropped(hop: str, client: str) -> None:
    assert who("127.0.0.1", hop) == client


def test_ipv6_clients_are_their_prefix() -> None:
    assert who("2001:db8:1:2::99") == "2001:db8:1:2::/64"
    assert who("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert who("2001:db8:1:2::99", prefix=48) == "2001:db8:1::/48"
    assert who("2001:db8:1:2::99", prefix=128) == "2001:db8:1:2::99/128"
    assert who("fe80::1%eth0") == "fe80::/64"


def test_an_ipv4_mapped_address_is_its_ipv4() -> None:
    assert who("::ffff:198.51.100.9") == "198.51.100.9"


def test_a_peer_that_is_no_address_is_itself() -> None:
    assert who(None) == "unknown"
    assert who("/run/orders.sock") == "/run/orders.sock"
