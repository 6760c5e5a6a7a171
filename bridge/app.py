"""The bridge as one FastStream application: a batch consumer of the three event topics.

The handler is one line; the delivery policy (commit after store + publish, retries, rewind)
lives in :class:`bridge.runtime.DeliveryRuntime`. Offsets are committed by hand (``MANUAL``):
never FastStream's default ACK_FIRST, which is at-most-once.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Mapping

import structlog
from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker, KafkaMessage

from bridge.flows import default_router
from bridge.kafka.clients import faststream_security
from bridge.mapping import load_mapping_set
from bridge.pipeline.batch import BatchProcessor
from bridge.pipeline.outbox import OutboxRelay
from bridge.runtime import DeliveryRuntime
from bridge.settings import Settings
from bridge.store.engine import create_engine
from bridge.store.migrate import upgrade

log = structlog.get_logger("bridge.app")


@dataclass
class Bridge:
    """Everything one running bridge holds."""

    settings: Settings
    broker: KafkaBroker
    app: AsgiFastStream
    runtime: DeliveryRuntime
    relay: OutboxRelay
    engine: Any


def _raw_values(message: KafkaMessage) -> list[bytes]:
    # Bodies are decoded by the pipeline, one by one, so that one bad event never fails the batch.
    return [record.value or b"" for record in message.raw_message]


def create_bridge(settings: Settings) -> Bridge:
    engine = create_engine(settings.store.url, busy_timeout_ms=settings.store.busy_timeout_ms)
    broker = KafkaBroker(
        settings.kafka.bootstrap_servers,
        security=faststream_security(settings.kafka),
        client_id=settings.kafka.client_id,
        enable_idempotence=True,  # implies acks=all
        graceful_timeout=30.0,
    )
    mapping_holder: dict[str, Any] = {}

    async def send(topic: str, key: bytes, value: bytes, headers: Mapping[str, str]) -> Any:
        return await broker.publish(value, topic=topic, key=key, headers=dict(headers),
                                    no_confirm=True)

    relay = OutboxRelay(engine, send)
    processor = BatchProcessor(engine, settings.topics, default_router(),
                               lambda: mapping_holder["active"])
    runtime = DeliveryRuntime(processor, relay, settings.retry)

    @broker.subscriber(
        *settings.topics.events().values(),
        group_id=settings.consumer.group_id,
        batch=True,
        max_records=settings.consumer.max_records,
        batch_timeout_ms=settings.consumer.batch_timeout_ms,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_interval_ms=settings.consumer.max_poll_interval_ms,
        session_timeout_ms=settings.consumer.session_timeout_ms,
        ack_policy=AckPolicy.MANUAL,
        decoder=_raw_values,
    )
    async def on_events(body: list[bytes], message: KafkaMessage) -> None:
        await runtime.handle(message)

    relay_task: dict[str, asyncio.Task[None]] = {}

    async def on_startup() -> None:
        await upgrade(settings.store.url)
        mapping_holder["active"] = load_mapping_set(settings.mappings_dir)

    async def after_startup() -> None:
        await relay.drain()  # what a crash left unsent goes out first
        relay_task["task"] = asyncio.create_task(_relay_loop(relay))

    async def on_shutdown() -> None:
        task = relay_task.pop("task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def after_shutdown() -> None:
        await relay.drain()
        await engine.dispose()

    app = AsgiFastStream(broker, on_startup=[on_startup], after_startup=[after_startup],
                         on_shutdown=[on_shutdown], after_shutdown=[after_shutdown])
    return Bridge(settings, broker, app, runtime, relay, engine)


async def _relay_loop(relay: OutboxRelay, interval_s: float = 2.0) -> None:
    """Publish rows a failed publish left behind (older than a few seconds, so that the batch
    path, which publishes its own rows right after commit, is not raced)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await relay.drain(older_than=timedelta(seconds=5))
        except Exception as error:  # noqa: BLE001 - the relay must outlive any one failure
            log.warning("outbox.relay_failed", error_class=type(error).__name__)
