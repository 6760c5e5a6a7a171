"""Client options built from KafkaSettings: right protocol, verified TLS, secrets kept secret."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import SecretStr

from bridge.kafka.clients import (
    aiokafka_client_kwargs,
    build_ssl_context,
    faststream_broker_kwargs,
    faststream_security,
)
from bridge.settings import KafkaSettings

PASSWORD = "canary-pw-7f3a"


@pytest.fixture(scope="module")
def client_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate and its key (stands in for both CA and client cert)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "client.pem", folder / "client.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=bridge-test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def sasl(protocol: str, mechanism: str = "SCRAM-SHA-512", **extra: object) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers="kafka-1:9093,kafka-2:9093",
        security_protocol=protocol,
        sasl_mechanism=mechanism,
        sasl_username="bridge",
        sasl_password=PASSWORD,
        **extra,
    )


def test_plaintext_passes_only_address_and_client_id() -> None:
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:9092", client_id="bridge-a")

    assert aiokafka_client_kwargs(kafka) == {
        "bootstrap_servers": "127.0.0.1:9092",
        "client_id": "bridge-a",
        "security_protocol": "PLAINTEXT",
    }
    assert faststream_security(kafka) is None


def test_ssl_context_verifies_the_broker_and_presents_the_client_certificate(
    client_certificate: tuple[Path, Path],
) -> None:
    cert, key = client_certificate
    kafka = KafkaSettings(security_protocol="SSL", ssl_cafile=cert, ssl_certfile=cert, ssl_keyfile=key)

    context = build_ssl_context(kafka)

    assert context is not None
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert any(ca["subject"] == ((("commonName", "bridge-test"),),) for ca in context.get_ca_certs())
    assert aiokafka_client_kwargs(kafka)["security_protocol"] == "SSL"


def test_ssl_without_a_ca_file_trusts_the_system_store() -> None:
    context = build_ssl_context(KafkaSettings(security_protocol="SSL"))

    assert context is not None and context.verify_mode is ssl.CERT_REQUIRED
    assert context.cert_store_stats()["x509_ca"] > 0


def test_ssl_maps_to_faststream_base_security_with_tls() -> None:
    security = faststream_security(KafkaSettings(security_protocol="SSL"))

    assert type(security) is BaseSecurity
    assert parse_security(security)["security_protocol"] == "SSL"
    assert isinstance(parse_security(security)["ssl_context"], ssl.SSLContext)


@pytest.mark.parametrize(
    ("mechanism", "security_class"),
    [("SCRAM-SHA-256", SASLScram256), ("SCRAM-SHA-512", SASLScram512), ("PLAIN", SASLPlaintext)],
)
def test_sasl_ssl_sends_credentials_over_verified_tls(mechanism: str, security_class: type) -> None:
    kafka = sasl("SASL_SSL", mechanism)

    kwargs = aiokafka_client_kwargs(kafka)
    security = faststream_security(kafka)

    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == mechanism
    assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("bridge", PASSWORD)
    assert kwargs["ssl_context"].verify_mode is ssl.CERT_REQUIRED
    assert type(security) is security_class
    assert parse_security(security)["security_protocol"] == "SASL_SSL"


def test_sasl_without_tls_only_when_explicitly_sasl_plaintext() -> None:
    kafka = sasl("SASL_PLAINTEXT", "SCRAM-SHA-256")

    kwargs = aiokafka_client_kwargs(kafka)

    assert kwargs["security_protocol"] == "SASL_PLAINTEXT"
    assert "ssl_context" not in kwargs
    assert parse_security(faststream_security(kafka))["security_protocol"] == "SASL_PLAINTEXT"


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SSL"])
def test_credentials_are_not_sent_when_the_protocol_is_not_sasl(protocol: str) -> None:
    kafka = sasl(protocol)

    security = faststream_security(kafka)

    assert PASSWORD not in repr(aiokafka_client_kwargs(kafka))
    assert security is None or type(security) is BaseSecurity


def test_password_stays_secret_until_handed_to_a_client() -> None:
    kafka = sasl("SASL_SSL")

    assert isinstance(kafka.sasl_password, SecretStr)
    assert PASSWORD not in repr(kafka) and PASSWORD not in str(kafka) and PASSWORD not in kafka.model_dump_json()
    assert faststream_broker_kwargs(kafka)["bootstrap_servers"] == "kafka-1:9093,kafka-2:9093"


def test_sasl_settings_without_a_password_are_refused_without_echoing_input() -> None:
    with pytest.raises(ValueError, match="SASL needs") as error:
        KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="PLAIN", sasl_username="bridge-user")

    assert "bridge-user" not in str(error.value)
