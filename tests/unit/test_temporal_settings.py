"""How the service reaches Temporal, from the environment: TLS files and PEM text, the API key
kept secret, bad combinations refused at start-up naming the variable, and the one
connection every role builds from them."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme
from temporalio.service import TLSConfig

from service.settings import ConfigError, TemporalAdminSettings, load, load_settings
from service.temporal import connection, requirements, tls_config
from tests.support.settings import only_required_env, refused
from workflows.names import SEARCH_ATTRIBUTES

API_KEY = "tcld-api-key-that-must-never-be-printed"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    only_required_env(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def pems(ca: trustme.CA, tmp_path: Path) -> dict[str, Path]:
    """A CA, and a client certificate and key it issued, as PEM files."""
    client = ca.issue_cert("orders-worker")
    files = {
        "ca": ca.cert_pem.bytes(),
        "cert": client.cert_chain_pems[0].bytes(),
        "key": client.private_key_pem.bytes(),
    }
    for name, data in files.items():
        (tmp_path / f"{name}.pem").write_bytes(data)
    return {name: tmp_path / f"{name}.pem" for name in files}


def test_plaintext_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert tls_config(settings) is False
    built = connection(settings)
    assert (built.address, built.namespace, built.tls, built.api_key) == (
        "localhost:7233",
        "default",
        False,
        None,
    )


def test_a_ca_and_a_server_name_make_the_tls_config(
    monkeypatch: pytest.MonkeyPatch, pems: dict[str, Path]
) -> None:
    monkeypatch.setenv("TEMPORAL_TLS_CA", str(pems["ca"]))
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_NAME", "temporal.internal")
    tls = tls_config(load_settings())
    assert isinstance(tls, TLSConfig)
    assert tls.server_root_ca_cert == pems["ca"].read_bytes()
    assert tls.domain == "temporal.internal"
    assert tls.client_cert is None
    assert tls.client_private_key is None


def test_mutual_tls_from_pem_text(monkeypatch: pytest.MonkeyPatch, pems: dict[str, Path]) -> None:
    """A secret store often hands over the PEM itself, not a file."""
    monkeypatch.setenv("TEMPORAL_TLS_CERT", pems["cert"].read_text())
    monkeypatch.setenv("TEMPORAL_TLS_KEY", pems["key"].read_text())
    settings = load_settings()
    tls = tls_config(settings)
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == pems["cert"].read_bytes()
    assert tls.client_private_key == pems["key"].read_bytes()
    assert tls.server_root_ca_cert is None  # the system's CAs
    assert pems["key"].read_text() not in repr(settings)
    assert "PRIVATE KEY" not in repr(connection(settings))


def test_an_api_key_turns_tls_on_and_stays_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_API_KEY", API_KEY)
    monkeypatch.setenv("TEMPORAL_ADDRESS", "eu-west-1.aws.api.temporal.io:7233")
    settings = load_settings()
    built = connection(settings)
    assert built.tls is True  # the system's CAs: Temporal Cloud's certificate is public
    assert built.api_key == API_KEY
    assert API_KEY not in repr(settings)
    assert API_KEY not in repr(built)


def test_tls_alone_uses_the_system_cas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_TLS", "true")
    assert tls_config(load_settings()) is True


def test_an_unset_variable_passed_as_empty_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """compose passes `${TEMPORAL_API_KEY:-}` as an empty string."""
    for name in ("TEMPORAL_TLS", "TEMPORAL_TLS_CA", "TEMPORAL_TLS_KEY", "TEMPORAL_API_KEY"):
        monkeypatch.setenv(name, "")
    assert tls_config(load_settings()) is False


@pytest.mark.parametrize(
    ("given", "missing"),
    [("TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"), ("TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CERT")],
)
def test_half_of_mutual_tls_is_refused_naming_both(
    monkeypatch: pytest.MonkeyPatch, pems: dict[str, Path], given: str, missing: str
) -> None:
    value = pems["cert" if given.endswith("CERT") else "key"]
    message = refused(monkeypatch, **{given: str(value)})
    assert f"{given} is set without {missing}" in message


def test_tls_off_with_tls_settings_is_refused(
    monkeypatch: pytest.MonkeyPatch, pems: dict[str, Path]
) -> None:
    message = refused(
        monkeypatch, TEMPORAL_TLS="false", TEMPORAL_TLS_CA=str(pems["ca"]), TEMPORAL_API_KEY=API_KEY
    )
    assert "TEMPORAL_TLS is false, yet TEMPORAL_TLS_CA, TEMPORAL_API_KEY are set" in message
    assert API_KEY not in message


def test_a_missing_file_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refused(monkeypatch, TEMPORAL_TLS_CA="/nowhere/ca.pem")
    assert "TEMPORAL_TLS_CA: '/nowhere/ca.pem' is neither PEM text nor a readable file" in message


def test_a_key_where_a_certificate_belongs_is_refused(
    monkeypatch: pytest.MonkeyPatch, pems: dict[str, Path]
) -> None:
    message = refused(monkeypatch, TEMPORAL_TLS_CA=str(pems["key"]))
    assert f"TEMPORAL_TLS_CA: '{pems['key']}' holds no PEM certificate" in message


def test_a_bad_key_is_refused_without_repeating_it(
    monkeypatch: pytest.MonkeyPatch, pems: dict[str, Path]
) -> None:
    pasted_wrong = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-not-a-pem"
    message = refused(
        monkeypatch, TEMPORAL_TLS_CERT=str(pems["cert"]), TEMPORAL_TLS_KEY=pasted_wrong
    )
    assert "TEMPORAL_TLS_KEY: the value is neither PEM text nor a readable file" in message
    assert pasted_wrong not in message


def test_an_encrypted_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    encrypted = (
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHz\n-----END ENCRYPTED PRIVATE KEY-----\n"
    )
    (tmp_path / "enc.pem").write_text(encrypted)
    message = refused(monkeypatch, TEMPORAL_TLS_KEY=str(tmp_path / "enc.pem"))
    assert "TEMPORAL_TLS_KEY: the value is an encrypted key" in message


def test_the_temporal_commands_need_no_unrelated_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.delenv("RABBITMQ_PASSWORD")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "orders-prod")
    monkeypatch.setenv("TEMPORAL_RETENTION", "P7D")
    settings = load(TemporalAdminSettings)
    needs = requirements(settings)
    assert needs.namespace == "orders-prod"
    assert needs.retention.days == 7
    assert needs.search_attributes == SEARCH_ATTRIBUTES
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings()


def test_a_retention_that_is_not_positive_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "TEMPORAL_RETENTION must be positive" in refused(monkeypatch, TEMPORAL_RETENTION="P0D")
