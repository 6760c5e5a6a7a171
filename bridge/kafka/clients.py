"""Connection options for Kafka clients, built from ``KafkaSettings``.

Two shapes of the same facts: keyword arguments for aiokafka clients (producer, consumer,
admin) and a FastStream ``security`` object for ``KafkaBroker(..., security=...)``.
TLS is always verified; SASL travels without TLS only when the settings say SASL_PLAINTEXT.
"""

from __future__ import annotations

import ssl
from typing import Any

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from bridge.settings import KafkaSettings

_FASTSTREAM_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


def uses_tls(kafka: KafkaSettings) -> bool:
    return kafka.security_protocol in ("SSL", "SASL_SSL")


def uses_sasl(kafka: KafkaSettings) -> bool:
    return kafka.security_protocol in ("SASL_SSL", "SASL_PLAINTEXT")


def build_ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    """A verifying TLS context (hostname + certificate chain) for SSL/SASL_SSL, else None.

    Trusts ``ssl_cafile`` when given, the system store otherwise; presents a client
    certificate when ``ssl_certfile`` is set (mutual TLS).
    """
    if not uses_tls(kafka):
        return None
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if kafka.ssl_certfile:
        context.load_cert_chain(str(kafka.ssl_certfile), keyfile=str(kafka.ssl_keyfile) if kafka.ssl_keyfile else None)
    return context


def aiokafka_client_kwargs(kafka: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments shared by ``AIOKafkaProducer``, ``AIOKafkaConsumer`` and the admin client.

    The SASL password is revealed here, as the dict is handed to the client; do not log it.
    """
    kwargs: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers,
        "client_id": kafka.client_id,
        "security_protocol": kafka.security_protocol,
    }
    context = build_ssl_context(kafka)
    if context is not None:
        kwargs["ssl_context"] = context
    if uses_sasl(kafka):
        assert kafka.sasl_password is not None  # guaranteed by KafkaSettings validation
        kwargs["sasl_mechanism"] = kafka.sasl_mechanism
        kwargs["sasl_plain_username"] = kafka.sasl_username
        kwargs["sasl_plain_password"] = kafka.sasl_password.get_secret_value()
    return kwargs


def faststream_security(kafka: KafkaSettings) -> BaseSecurity | None:
    """The ``security=`` argument for ``faststream.kafka.KafkaBroker`` (None for PLAINTEXT)."""
    context = build_ssl_context(kafka)
    if not uses_sasl(kafka):
        return BaseSecurity(ssl_context=context) if context is not None else None
    assert kafka.sasl_mechanism is not None and kafka.sasl_username is not None
    assert kafka.sasl_password is not None
    security_class = _FASTSTREAM_SASL[kafka.sasl_mechanism]
    return security_class(
        kafka.sasl_username,
        kafka.sasl_password.get_secret_value(),
        ssl_context=context,
        use_ssl=context is not None,
    )


def faststream_broker_kwargs(kafka: KafkaSettings) -> dict[str, Any]:
    """Connection arguments for ``faststream.kafka.KafkaBroker(**kwargs)``."""
    return {
        "bootstrap_servers": kafka.bootstrap_servers,
        "client_id": kafka.client_id,
        "security": faststream_security(kafka),
    }
