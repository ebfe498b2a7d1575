"""A throwaway certificate authority and a server certificate for 127.0.0.1 / localhost,
made with the `openssl` command, for tests of the TLS settings against real servers."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificates:
    ca: Path  # what a client trusts (REDIS_TLS_CA_FILE, RABBITMQ_TLS_CA_FILE)
    cert: Path  # the server's certificate, signed by the CA
    key: Path  # the server's private key


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(directory: Path, name: str = "test") -> Certificates:
    """A CA and a server certificate (EC P-256, valid a day) in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = f"{name}-ca.crt", f"{name}-ca.key"
    cert, key, csr = f"{name}.crt", f"{name}.key", f"{name}.csr"
    ext = directory / f"{name}.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ca_key, cwd=directory)
    _openssl(
        "req", "-x509", "-new", "-key", ca_key, "-out", ca, "-days", "1",
        "-subj", f"/CN={name}-ca", cwd=directory,
    )  # fmt: skip
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key, cwd=directory)
    _openssl("req", "-new", "-key", key, "-out", csr, "-subj", "/CN=localhost", cwd=directory)
    _openssl(
        "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "1", "-extfile", ext.name, cwd=directory,
    )  # fmt: skip
    return Certificates(directory / ca, directory / cert, directory / key)
