"""Who a client is, for the rate limiter: an identity a client cannot buy afresh.

The peer is the client unless it is a trusted proxy. Behind one, every `X-Forwarded-For`
line counts (a proxy such as HAProxy appends a line of its own rather than extending the
client's), read as one list of hops, oldest first; walking it from the right, the first
hop that is not a trusted proxy is the client. Everything left of it was written by the
client and is ignored; a hop that is no address stops the walk at the trusted hop before
it. An IPv6 client is its network of `ipv6_prefix` bits (/64: one subscriber's whole
allocation), since a single host may use any address of it; an IPv4-mapped IPv6 address
is its IPv4 client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

FORWARDED_FOR = "X-Forwarded-For"


def parse_address(text: str) -> IPAddress | None:
    """An address from a hop: bare, or with a port (`1.2.3.4:80`, `[2001:db8::1]:443`)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def identity(address: IPAddress, ipv6_prefix: int) -> str:
    """The bucket's name for an address: IPv4 as it is, IPv6 by its prefix."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address), ipv6_prefix), strict=False))
    return str(address)


def _trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in net for net in trusted)


def client_identity(
    peer: str | None,
    forwarded_for: Iterable[str],
    trusted: Sequence[IPNetwork],
    *,
    ipv6_prefix: int,
) -> str:
    """The client behind `peer`, given every `X-Forwarded-For` line in the order received."""
    if peer is None:
        return "unknown"
    nearest = parse_address(peer)
    if nearest is None:
        return peer  # not an IP connection (a Unix socket): one client
    if not _trusted(nearest, trusted):
        return identity(nearest, ipv6_prefix)
    hops = [hop for line in forwarded_for for hop in line.split(",")]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        if not _trusted(address, trusted):
            return identity(address, ipv6_prefix)
        nearest = address
    return identity(nearest, ipv6_prefix)
