"""RABBITMQ_TLS: the publisher and the consumer speak AMQP inside TLS, on the broker's
certificate as RABBITMQ_TLS_CA_FILE vouches for it. A TLS listener of the test's own
stands in for the broker (no RabbitMQ with TLS runs here): it records what arrives."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiormq
import pytest

from service import pipeline
from tests.support.settings import make_settings
from tests.support.tls import Pems, make_certificates

AMQP_HEADER = b"AMQP\x00\x00\x09\x01"  # what an AMQP 0-9-1 client sends first


@dataclass
class TlsListener:
    port: int
    received: list[bytes] = field(default_factory=list)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Pems:
    return make_certificates(tmp_path_factory.mktemp("amqps"))


@pytest.fixture
async def listener(certificates: Pems) -> AsyncIterator[TlsListener]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates.cert, certificates.key)
    found = TlsListener(0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            found.received.append(await reader.readexactly(len(AMQP_HEADER)))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    found.port = server.sockets[0].getsockname()[1]
    async with server:
        yield found


async def _connect(listener: TlsListener, ca_file: Path | None) -> None:
    settings = make_settings(
        rabbitmq_host="127.0.0.1",
        rabbitmq_port=listener.port,
        rabbitmq_tls=True,
        rabbitmq_tls_ca_file=str(ca_file) if ca_file else None,
        rabbitmq_timeout_seconds=2.0,
    )
    publisher = pipeline.publisher(settings)
    with pytest.raises((ConnectionError, aiormq.exceptions.AMQPError, TimeoutError)):
        await publisher.connect()  # the stand-in hangs up after the header
    await publisher.close()


async def test_the_publisher_speaks_amqp_inside_tls_trusting_the_configured_ca(
    listener: TlsListener, certificates: Pems
) -> None:
    await _connect(listener, certificates.ca)
    assert listener.received[:1] == [AMQP_HEADER]


async def test_a_broker_certificate_nobody_vouches_for_is_refused(listener: TlsListener) -> None:
    await _connect(listener, None)  # the system's CAs do not know the test's CA
    assert listener.received == []
