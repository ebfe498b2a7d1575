"""TLS in front of a plaintext server, for tests: a throwaway CA (trustme) and an asyncio proxy
that terminates TLS and forwards the bytes, as a load balancer in front of a Temporal
frontend does.

gRPC runs over HTTP/2: the proxy offers ALPN `h2` (a gRPC client refuses a server that
does not), and the HTTP/2 bytes inside pass through to the plaintext server unchanged.
With `client_ca`, it demands a client certificate that CA issued (mutual TLS).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import trustme

SERVER_NAME = "temporal.orders.test"


@dataclass(frozen=True)
class Pems:
    """A CA's certificate, and a certificate and key it issued, as PEM files."""

    ca: Path
    cert: Path
    key: Path

    @classmethod
    def write(cls, ca: trustme.CA, identity: str, folder: Path, *more: str) -> Pems:
        issued = ca.issue_cert(identity, *more)
        folder.mkdir(parents=True, exist_ok=True)
        paths = cls(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
        ca.cert_pem.write_to_path(str(paths.ca))
        issued.cert_chain_pems[0].write_to_path(str(paths.cert))
        issued.private_key_pem.write_to_path(str(paths.key))
        return paths


def make_certificates(folder: Path) -> Pems:
    """A fresh CA and a server certificate for 127.0.0.1 and localhost, as PEM files in
    `folder`: what a test's own TLS server (Redis, a broker stand-in) presents."""
    return Pems.write(trustme.CA(), "127.0.0.1", folder, "localhost")


@dataclass
class TlsProxy:
    target: tuple[str, int]
    ca: trustme.CA = field(default_factory=trustme.CA)
    port: int = 0
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._writers.update({client_w, upstream_w})
        await asyncio.gather(_pipe(client_r, upstream_w), _pipe(upstream_r, client_w))
        self._writers.difference_update({client_w, upstream_w})

    def close_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError, ssl.SSLError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


def server_context(proxy: TlsProxy, client_ca: trustme.CA | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    proxy.ca.issue_cert(SERVER_NAME).configure_cert(context)
    context.set_alpn_protocols(["h2"])
    if client_ca is not None:
        client_ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


@contextlib.asynccontextmanager
async def tls_proxy(target: str, *, client_ca: trustme.CA | None = None) -> AsyncIterator[TlsProxy]:
    """A TLS proxy to `target` (host:port) on a free port, its certificate for SERVER_NAME
    issued by `proxy.ca`; with `client_ca`, mutual TLS."""
    host, port = target.rsplit(":", 1)
    proxy = TlsProxy((host, int(port)))
    server = await asyncio.start_server(
        proxy.handle, "127.0.0.1", 0, ssl=server_context(proxy, client_ca)
    )
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
        proxy.close_all()
        await server.wait_closed()
