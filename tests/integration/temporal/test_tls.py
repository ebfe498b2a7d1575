"""Every role reaches Temporal through the one connection (service.temporal): here through a
TLS-terminating proxy with a throwaway CA in front of the dev server, as a secured cluster
is reached. With the CA and the right server name a worker runs a workflow; without the
CA, or with another name, the connection is refused; a proxy that demands a client
certificate gets one from TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from service.settings import Settings
from service.temporal import connection
from tests.support.settings import make_settings
from tests.support.tls import SERVER_NAME, Pems, TlsProxy, tls_proxy
from workflows.probe import SetupProbe

# With TLS 1.3 the client finishes its handshake before the server checks its certificate:
# the refusal comes with the first call, as the connection closing.
REFUSED_AFTER_HANDSHAKE = "call error after connection"


@pytest.fixture
async def proxy(temporal_env: WorkflowEnvironment) -> AsyncIterator[TlsProxy]:
    async with tls_proxy(temporal_env.client.service_client.config.target_host) as p:
        yield p


@pytest.fixture
def ca_file(proxy: TlsProxy, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    proxy.ca.cert_pem.write_to_path(str(path))
    return path


def through(proxy: TlsProxy, **tls: Any) -> Settings:
    return make_settings(temporal_address=proxy.address, **tls)


async def runs_a_workflow(client: Client) -> None:
    """A worker and a workflow, both through `client`: the whole round trip."""
    queue = f"tls-{uuid.uuid4().hex[:12]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[SetupProbe],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        await client.execute_workflow(SetupProbe.run, id=queue, task_queue=queue)
    described = await client.get_workflow_handle(queue).describe()
    assert described.status is not None
    assert described.status.name == "COMPLETED"


async def test_a_workflow_runs_through_tls_with_the_ca(proxy: TlsProxy, ca_file: Path) -> None:
    settings = through(proxy, temporal_tls_ca=str(ca_file), temporal_tls_server_name=SERVER_NAME)
    client = await connection(settings).connect()
    await runs_a_workflow(client)


async def test_without_the_ca_the_server_is_refused(proxy: TlsProxy) -> None:
    """The system's CAs do not know the proxy's: the certificate is not trusted."""
    settings = through(proxy, temporal_tls=True, temporal_tls_server_name=SERVER_NAME)
    with pytest.raises(RuntimeError, match="UnknownIssuer"):
        await connection(settings).connect()


async def test_with_another_server_name_the_server_is_refused(
    proxy: TlsProxy, ca_file: Path
) -> None:
    settings = through(
        proxy, temporal_tls_ca=str(ca_file), temporal_tls_server_name="elsewhere.orders.test"
    )
    with pytest.raises(RuntimeError, match="NotValidForName"):
        await connection(settings).connect()


async def test_plaintext_to_a_tls_endpoint_fails(proxy: TlsProxy) -> None:
    with pytest.raises(RuntimeError):
        await connection(through(proxy)).connect()


async def test_mutual_tls_with_the_client_certificate(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    clients_ca = trustme.CA()
    target = temporal_env.client.service_client.config.target_host
    async with tls_proxy(target, client_ca=clients_ca) as proxy:
        ca_file = tmp_path / "server-ca.pem"
        proxy.ca.cert_pem.write_to_path(str(ca_file))
        server = {"temporal_tls_ca": str(ca_file), "temporal_tls_server_name": SERVER_NAME}

        with pytest.raises(RuntimeError, match=REFUSED_AFTER_HANDSHAKE):  # no client cert
            await connection(through(proxy, **server)).connect()

        stranger = Pems.write(trustme.CA(), "someone-else", tmp_path / "stranger")
        unknown = {"temporal_tls_cert": str(stranger.cert), "temporal_tls_key": str(stranger.key)}
        with pytest.raises(RuntimeError, match=REFUSED_AFTER_HANDSHAKE):  # another CA's
            await connection(through(proxy, **server, **unknown)).connect()

        ours = Pems.write(clients_ca, "orders-worker", tmp_path / "ours")
        settings = through(
            proxy, **server, temporal_tls_cert=str(ours.cert), temporal_tls_key=str(ours.key)
        )
        await runs_a_workflow(await connection(settings).connect())
