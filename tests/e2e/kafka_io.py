"""Talk to the real broker as CSM/FSM/ITSM would: produce events, read commands."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any, Callable, Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bridge.settings import Settings


async def produce(settings: Settings, events: Iterable[dict[str, Any] | bytes], topic: str | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        sends = []
        for event in events:
            if isinstance(event, bytes):
                sends.append(await producer.send(topic or settings.topics.csm_events, event))
            else:
                target = topic or settings.topics.events()[event["source"]]
                sends.append(await producer.send(target, json.dumps(event).encode(), key=event["sys_id"].encode()))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def collect(
    settings: Settings, topic: str, until: Callable[[list[Any]], bool], timeout_s: float = 60.0
) -> list[Any]:
    """Read ``topic`` from the beginning until ``until(messages)`` holds or the time is up."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    messages: list[Any] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not until(messages) and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                messages.extend(records)
        return messages
    finally:
        await consumer.stop()


def commands(messages: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(m.value) for m in messages]


def start_bridge(env: dict[str, str], port: int = 0, log_path: str | None = None) -> subprocess.Popen[bytes]:
    """The bridge as a real process (so that SIGKILL is real)."""
    full_env = {**os.environ, **env, "BRIDGE_HTTP__PORT": str(port or _free_port()), "BRIDGE_LOG_FORMAT": "json"}
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "cli", "run"], env=full_env, stdout=out, stderr=subprocess.STDOUT)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
