"""The one Temporal connection of every role and command, built from the settings.

The API's lazy client, the worker's client and `orders workflows replay` / `orders
temporal setup` all connect through `connection(settings)`: the same address, namespace,
TLS, API key, data converter and interceptors. The certificate and key files are read
here, when the process builds its connection (a rotated certificate is taken at the next
start), and passed down as bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Interceptor
from temporalio.service import TLSConfig

from service.settings.temporal import TemporalSettings, pem_bytes
from workflows.client import TemporalConnection
from workflows.names import SEARCH_ATTRIBUTES
from workflows.namespace import Requirements


def tls_config(settings: TemporalSettings) -> TLSConfig | bool:
    """False (plaintext), True (TLS, the system's CAs) or the TLS the settings describe."""
    if not settings.temporal_uses_tls:
        return False
    key = settings.temporal_tls_key
    if not (
        settings.temporal_tls_ca or settings.temporal_tls_cert or settings.temporal_tls_server_name
    ):
        return True
    return TLSConfig(
        server_root_ca_cert=pem_bytes(settings.temporal_tls_ca)
        if settings.temporal_tls_ca
        else None,
        domain=settings.temporal_tls_server_name,
        client_cert=pem_bytes(settings.temporal_tls_cert) if settings.temporal_tls_cert else None,
        client_private_key=pem_bytes(key.get_secret_value()) if key else None,
    )


def connection(
    settings: TemporalSettings, interceptors: Sequence[Interceptor] = ()
) -> TemporalConnection:
    """`interceptors`: the tracing ones (`service.tracing.temporal_interceptors`), if on."""
    api_key = settings.temporal_api_key
    return TemporalConnection(
        address=settings.temporal_address,
        namespace=settings.temporal_namespace,
        tls=tls_config(settings),
        api_key=api_key.get_secret_value() if api_key else None,
        interceptors=tuple(interceptors),
    )


def requirements(settings: TemporalSettings) -> Requirements:
    """What the service needs of the namespace: it exists, with every search attribute the
    workflows declare (workflows.names) and the retention of TEMPORAL_RETENTION."""
    return Requirements(
        namespace=settings.temporal_namespace,
        search_attributes=SEARCH_ATTRIBUTES,
        retention=settings.temporal_retention,
    )
