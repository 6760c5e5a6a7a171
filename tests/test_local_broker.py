"""The local broker is a real Kafka: it starts, carries messages, survives a restart, cleans up."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bridge.kafka.clients import aiokafka_client_kwargs
from bridge.settings import Settings
from bridgedev.kafka.local_broker import LocalKafka, LocalKafkaError

pytestmark = pytest.mark.kafka


async def produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def consume(bootstrap: str, topic: str, count: int, *, group_id: str | None = None) -> list[tuple[bytes, bytes]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group_id, auto_offset_reset="earliest")
    await consumer.start()
    received: list[tuple[bytes, bytes]] = []
    try:
        async with asyncio.timeout(30):
            while len(received) < count:
                batches = await consumer.getmany(timeout_ms=500)
                received += [(m.key, m.value) for batch in batches.values() for m in batch]
    finally:
        await consumer.stop()
    return received


def port_is_open(bootstrap: str) -> bool:
    host, port = bootstrap.rsplit(":", 1)
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) == 0


def test_sync_context_manager_starts_a_broker_and_removes_everything_on_exit() -> None:
    with LocalKafka() as kafka:
        bootstrap = kafka.bootstrap_servers
        assert kafka.running and port_is_open(bootstrap)
        assert kafka.log_file is not None and "Kafka Server started" in kafka.log_file.read_text()
        work_dir = kafka.log_file.parent
    assert not kafka.running
    assert not port_is_open(bootstrap)
    assert not work_dir.exists()


async def test_produce_and_consume_round_trip(bridge_settings: Settings) -> None:
    bootstrap = bridge_settings.kafka.bootstrap_servers
    topic = bridge_settings.topics.csm_events
    sent = [(f"sys-{i}".encode(), f'{{"n": {i}}}'.encode()) for i in range(10)]

    await produce(bootstrap, topic, sent)
    received = await consume(bootstrap, topic, len(sent), group_id=bridge_settings.consumer.group_id)

    assert sorted(received) == sorted(sent)


async def test_restart_keeps_address_and_messages(own_kafka: LocalKafka) -> None:
    bootstrap = own_kafka.bootstrap_servers
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic("survives", 1, 1)])
    await admin.close()
    await produce(bootstrap, "survives", [(b"k", b"before restart")])

    assert await own_kafka.restart() == bootstrap

    await produce(bootstrap, "survives", [(b"k", b"after restart")])
    assert await consume(bootstrap, "survives", 2) == [(b"k", b"before restart"), (b"k", b"after restart")]


async def test_stopped_broker_refuses_connections_until_started_again(own_kafka: LocalKafka) -> None:
    bootstrap = own_kafka.bootstrap_servers
    await own_kafka.stop(keep_data=True)
    assert not port_is_open(bootstrap)

    await own_kafka.start()

    assert port_is_open(bootstrap)


async def test_start_failure_reports_the_broker_log_and_cleans_up() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken_port = squatter.getsockname()[1]
        kafka = LocalKafka(port=taken_port, startup_timeout_s=60)

        with pytest.raises(LocalKafkaError, match="(?s)did not become ready.*Address already in use"):
            await kafka.start()

    assert not kafka.running
    assert kafka.log_file is None  # temp dir removed


async def test_aiokafka_kwargs_from_settings_reach_the_broker(bridge_settings: Settings) -> None:
    admin = AIOKafkaAdminClient(**aiokafka_client_kwargs(bridge_settings.kafka))
    await admin.start()
    try:
        topics = await admin.list_topics()
    finally:
        await admin.close()

    assert bridge_settings.topics.fsm_commands in topics


def test_two_processes_fetching_jars_at_once_both_get_a_complete_cache(tmp_path: Path) -> None:
    env = {**os.environ, "BRIDGE_KAFKA_CACHE": str(tmp_path)}
    command = [sys.executable, "-c", "from bridgedev.commands.kafka import app; app(['fetch'])"]
    repo = Path(__file__).parents[1]
    fetchers = [
        subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [fetcher.communicate(timeout=600) for fetcher in fetchers]

    assert [fetcher.returncode for fetcher in fetchers] == [0, 0], outputs
    libs = {Path(stdout.strip()) for stdout, _ in outputs}
    assert libs == {tmp_path / "3.9.1" / "libs"}
    jar_names = {jar.name for jar in (tmp_path / "3.9.1" / "libs").iterdir()}
    assert {"kafka_2.13-3.9.1.jar", "kafka-clients-3.9.1.jar", "slf4j-reload4j-1.7.36.jar"} <= jar_names
    assert sorted(p.name for p in (tmp_path / "3.9.1").iterdir()) == [
        ".lock",
        "libs",
        "pom.xml",
        "resolved.ok",
    ]
