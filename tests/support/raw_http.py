"""HTTP/1.1 over a bare socket, for the requests no HTTP client sends: bad bytes in a
header, Content-Length with Transfer-Encoding, broken chunked bodies, a header sent
halfway, a Content-Length that lies, a client that hangs up in the middle of its body.

`request()` builds the bytes (header values may be bytes, sent as they are);
`RawConnection` sends them and reads what the server answers, or sees it hang up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

HeaderValue = str | bytes
Headers = Iterable[tuple[str, HeaderValue]]


def request(
    method: str,
    path: str,
    headers: Headers = (),
    body: bytes = b"",
    *,
    content_length: bool = True,
) -> bytes:
    """A request's bytes: `Host` first, then `headers` in order (repeats kept), then
    `Content-Length` of `body` unless `content_length` is false or a header names one."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: test"]
    named = set()
    for name, value in headers:
        named.add(name.lower())
        raw = value if isinstance(value, bytes) else value.encode("latin-1")
        lines.append(name.encode() + b": " + raw)
    if content_length and body and not {"content-length", "transfer-encoding"} & named:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def chunked(*chunks: bytes) -> bytes:
    """A chunked body: each chunk with its size, then the last, empty one."""
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # names in lower case; a repeated header keeps its last value
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class RawConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, host: str = "127.0.0.1") -> RawConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self, within: float = 5.0) -> RawResponse:
        """The next response (its status line, headers and Content-Length body), read
        within `within` seconds."""
        async with asyncio.timeout(within):
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            body = await self.reader.readexactly(length) if length else b""
        return RawResponse(int(status_line.split(" ")[1]), headers, body)

    async def closed_by_server(self, within: float) -> bool:
        """Whether the server closes the connection within `within` seconds (reading, and
        discarding, anything it sends first)."""
        try:
            async with asyncio.timeout(within):
                while await self.reader.read(65536):
                    pass
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        return True

    def abort(self) -> None:
        """Hang up at once, with an RST: a client that goes away mid-request."""
        self.writer.transport.abort()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def exchange(port: int, raw: bytes, within: float = 5.0) -> RawResponse:
    """Send one request on a new connection and read its answer."""
    conn = await RawConnection.open(port)
    try:
        await conn.send(raw)
        return await conn.response(within)
    finally:
        await conn.close()
