"""The bridge on a broker secured as production clusters are: SASL/SCRAM over TLS, and mutual TLS.

One broker (``tests/fixtures/secure_kafka.py``: keystores made with keytool, SCRAM users in
the metadata log) serves the module. The CLI creates the topics through the secured listener,
``bridge run`` consumes an action and publishes its work order through it, and a wrong
password, an untrusted CA or a missing client certificate fail with a line that says so
instead of a hang; the password never reaches the output.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bridge.kafka.clients import aiokafka_client_kwargs
from bridge.settings import KafkaSettings, TopicNames
from tests.e2e.kafka_io import start_bridge
from tests.fixtures.events import make_event, new_sys_id
from tests.fixtures.secure_kafka import SCRAM_PASSWORD, SCRAM_USER, SecureKafka, SecureKafkaProcess

pytestmark = pytest.mark.kafka

MAPPINGS_DIR = Path(__file__).parents[2] / "mappings"


@pytest.fixture(scope="module")
def secure_kafka() -> Iterator[SecureKafka]:
    with SecureKafkaProcess() as kafka:
        yield kafka


def security_env(
    kafka: SecureKafka, how: str, *, password: str = SCRAM_PASSWORD, ca_file: Path | None = None
) -> dict[str, str]:
    """``BRIDGE_KAFKA__*`` variables for one way of reaching the broker."""
    ca = str(ca_file or kafka.ca_file)
    if how == "mutual-tls":
        return {
            "BRIDGE_KAFKA__BOOTSTRAP_SERVERS": kafka.mutual_tls,
            "BRIDGE_KAFKA__SECURITY_PROTOCOL": "SSL",
            "BRIDGE_KAFKA__SSL_CAFILE": ca,
            "BRIDGE_KAFKA__SSL_CERTFILE": str(kafka.client_cert),
            "BRIDGE_KAFKA__SSL_KEYFILE": str(kafka.client_key),
        }
    return {
        "BRIDGE_KAFKA__BOOTSTRAP_SERVERS": kafka.sasl_ssl,
        "BRIDGE_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "BRIDGE_KAFKA__SASL_MECHANISM": how,
        "BRIDGE_KAFKA__SASL_USERNAME": SCRAM_USER,
        "BRIDGE_KAFKA__SASL_PASSWORD": password,
        "BRIDGE_KAFKA__SSL_CAFILE": ca,
    }


def kafka_settings(env: dict[str, str]) -> KafkaSettings:
    fields = {
        key.removeprefix("BRIDGE_KAFKA__").lower(): value
        for key, value in env.items()
        if key.startswith("BRIDGE_KAFKA__")
    }
    return KafkaSettings.model_validate(fields)


def deployment_env(tmp_path: Path, security: dict[str, str]) -> dict[str, str]:
    """Own topics, group and SQLite file, as ``BRIDGE_*`` variables."""
    suffix = uuid.uuid4().hex[:10]
    env = {
        **security,
        "BRIDGE_CONSUMER__GROUP_ID": f"secure-{suffix}",
        "BRIDGE_STORE__URL": f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}",
        "BRIDGE_MAPPINGS_DIR": str(MAPPINGS_DIR),
    }
    for logical_name, name in TopicNames().model_dump().items():
        env[f"BRIDGE_TOPICS__{logical_name.upper()}"] = f"{name}.{suffix}"
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def produce(kafka: KafkaSettings, topic: str, events: list[dict[str, Any]]) -> None:
    producer = AIOKafkaProducer(**aiokafka_client_kwargs(kafka), enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(topic, json.dumps(event).encode(), key=event["sys_id"].encode())
    finally:
        await producer.stop()


async def first_message(kafka: KafkaSettings, topic: str, timeout_s: float = 90.0) -> Any:
    consumer = AIOKafkaConsumer(
        topic, **aiokafka_client_kwargs(kafka), auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                return records[0]
        raise AssertionError(f"nothing arrived on {topic} in {timeout_s} s")
    finally:
        await consumer.stop()


@pytest.mark.parametrize("how", ["SCRAM-SHA-512", "SCRAM-SHA-256", "mutual-tls"])
async def test_the_bridge_runs_end_to_end_through_a_secured_listener(
    secure_kafka: SecureKafka, tmp_path: Path, how: str
) -> None:
    env = deployment_env(tmp_path, security_env(secure_kafka, how))
    created = cli(env, "topics", "create")
    assert created.returncode == 0, created.stdout + created.stderr
    assert cli(env, "db", "upgrade").returncode == 0

    log = tmp_path / "bridge.log"
    bridge = start_bridge(env, log_path=str(log))
    try:
        kafka = kafka_settings(env)
        case_id = new_sys_id()
        case = make_event("csm-case-insert", sys_id=case_id)
        press = make_event("csm-case-action-create-work-order", sys_id=case_id)
        await produce(kafka, env["BRIDGE_TOPICS__CSM_EVENTS"], [case, press])
        command = json.loads((await first_message(kafka, env["BRIDGE_TOPICS__FSM_COMMANDS"])).value)
        assert command["table"] == "wm_order" and command["fields"]["initiated_from"] == case_id
    finally:
        bridge.terminate()
        bridge.wait(timeout=60)
    output = log.read_text()
    assert "shut down gracefully" in output, output[-3000:]
    assert SCRAM_PASSWORD not in output


@pytest.mark.parametrize(
    ("how", "broken", "expected"),
    [
        ("SCRAM-SHA-512", {"password": "not-the-password"}, "BRIDGE_KAFKA__SASL_PASSWORD"),
        ("SCRAM-SHA-512", {"ca_file": "other"}, "not trusted by BRIDGE_KAFKA__SSL_CAFILE"),
        ("mutual-tls", {"no_client_cert": True}, "BRIDGE_KAFKA__SSL_CERTFILE"),
    ],
)
def test_a_wrong_credential_fails_with_one_line_and_no_secret(
    secure_kafka: SecureKafka, tmp_path: Path, how: str, broken: dict[str, Any], expected: str
) -> None:
    security = security_env(
        secure_kafka,
        how,
        password=broken.get("password", SCRAM_PASSWORD),
        ca_file=secure_kafka.other_ca_file if broken.get("ca_file") else None,
    )
    if broken.get("no_client_cert"):
        security = {k: v for k, v in security.items() if "CERTFILE" not in k and "KEYFILE" not in k}
    env = deployment_env(tmp_path, security)
    listed = cli(env, "topics", "list")
    output = listed.stdout + listed.stderr
    assert listed.returncode != 0
    assert len(output.strip().splitlines()) == 1, output
    assert expected in output
    assert SCRAM_PASSWORD not in output and "not-the-password" not in output


def test_bridge_run_with_a_wrong_password_gives_up_naming_the_credentials(
    secure_kafka: SecureKafka, tmp_path: Path
) -> None:
    env = deployment_env(tmp_path, security_env(secure_kafka, "SCRAM-SHA-512", password="not-the-password"))
    done = cli({**env, "BRIDGE_PROBES__STARTUP_DEADLINE_S": "3", "BRIDGE_LOG_FORMAT": "json"}, "run")
    assert done.returncode == 3
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot reach the Kafka broker at ") and last.endswith(
        "refused the credentials (SCRAM-SHA-512): check BRIDGE_KAFKA__SASL_USERNAME and BRIDGE_KAFKA__SASL_PASSWORD"
    ), last
    assert "not-the-password" not in done.stdout + done.stderr
