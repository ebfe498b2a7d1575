"""A Redis of the test's own (the shared one is never reconfigured): `redis-server` on a
free port, with a password and, if asked, TLS only, nothing persisted."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.faults import free_port
from tests.support.tls import Pems


@dataclass(frozen=True)
class PrivateRedis:
    port: int
    password: str
    certificates: Pems | None  # TLS only when set


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def private_redis(
    directory: Path, password: str, certificates: Pems | None = None
) -> Iterator[PrivateRedis]:
    port = free_port()
    argv = ["redis-server", "--bind", "127.0.0.1", "--requirepass", password]
    argv += ["--save", "", "--appendonly", "no", "--dir", str(directory)]
    if certificates is None:
        argv += ["--port", str(port)]
    else:
        argv += ["--port", "0", "--tls-port", str(port), "--tls-auth-clients", "no"]
        argv += ["--tls-cert-file", str(certificates.cert), "--tls-key-file", str(certificates.key)]
        argv += ["--tls-ca-cert-file", str(certificates.ca)]
    log = directory / f"redis-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{log.read_text()}")
            time.sleep(0.02)
        yield PrivateRedis(port, password, certificates)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
