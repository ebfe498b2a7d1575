"""A request aiohttp cannot parse: a 400, and one INFO line in the log, not an ERROR with a
traceback per request (a log-flooding vector)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from service.logs import MalformedRequestFilter, quiet_malformed_requests
from tests.integration.api.conftest import Client


@pytest.fixture
def quieted() -> Iterator[None]:
    server_log = logging.getLogger("aiohttp.server")
    before = list(server_log.filters)
    quiet_malformed_requests()
    yield
    server_log.filters[:] = before


async def _send(port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        return await reader.read(200)
    finally:
        writer.close()


@pytest.mark.usefixtures("quieted")
@pytest.mark.parametrize(
    "raw",
    [
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    ],
)
async def test_a_malformed_request_is_a_400_and_one_info_line(
    client: Client, caplog: pytest.LogCaptureFixture, raw: bytes
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    answer = await _send(client.server.port or 0, raw)
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.split(b" ")[1] == b"400", answer
    await asyncio.sleep(0.1)
    server = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(server) == 1, [r.getMessage() for r in server]
    (record,) = server
    assert record.levelno == logging.INFO
    assert record.exc_info is None
    assert record.getMessage().startswith("malformed HTTP request answered 400: ")
    assert "127.0.0.1" in record.getMessage()
    assert "\n" not in record.getMessage()


def test_a_real_server_error_passes_as_it_is() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        record = logging.LogRecord(
            "aiohttp.server",
            logging.ERROR,
            __file__,
            1,
            "Error handling request from %s",
            ("127.0.0.1",),
            (type(exc), exc, exc.__traceback__),
        )
    assert MalformedRequestFilter().filter(record)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
