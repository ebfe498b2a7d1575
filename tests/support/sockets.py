"""Which addresses a local port is listening on, from the kernel's own tables (Linux)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

LISTEN = "0A"  # the TCP state in /proc/net/tcp*


def _address(hex_ip: str) -> str:
    raw = bytes.fromhex(hex_ip)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    # IPv6: four 32-bit words, each in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def listening_hosts(port: int) -> set[str]:
    """Every local address with a socket listening on TCP `port` ("0.0.0.0" for any)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            hex_ip, hex_port = local.split(":")
            if state == LISTEN and int(hex_port, 16) == port:
                found.add(_address(hex_ip))
    return found
