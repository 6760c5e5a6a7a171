"""The bridge as one FastStream application: a batch consumer of the three event topics.

The handler is one line; the delivery policy (commit after store + publish, retries, rewind)
lives in :class:`bridge.runtime.DeliveryRuntime`. Offsets are committed by hand (``MANUAL``;
each batch's own end offsets, once its outputs are acknowledged): never FastStream's default
ACK_FIRST, which is at-most-once.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Coroutine, Mapping

import structlog
from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker, KafkaMessage, KafkaPublisher

from bridge.http import asgi_routes
from bridge.http.dispatch import with_portal
from bridge.kafka.clients import faststream_security
from bridge.logs import faststream_logger
from bridge.mapping import MappingReloader
from bridge.observability import observability_lifespan, runtime_observers, transport_metrics
from bridge.observability.asyncapi import specification
from bridge.portal import create_portal_app
from bridge.pipeline.factory import build_processor, change_hooks  # noqa: F401 (re-export)
from bridge.pipeline.outbox import OutboxRelay
from bridge.runtime import DeliveryRuntime
from bridge.settings import Settings
from bridge.store.checkpoint import BACKSTOP_PAGES, WalCheckpointer, checkpointer_for
from bridge.store.engine import is_sqlite, store_engine
from bridge.visibility import install_rls
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
    publishers: dict[str, KafkaPublisher]
    asgi: Any = None  # what the HTTP server runs: the portal beside FastStream's app
    reloader: MappingReloader | None = None
    checkpointer: WalCheckpointer | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def mappings(self) -> Any:
        assert self.reloader is not None, "mappings are loaded on start-up"
        return self.reloader.active


def _raw_values(message: KafkaMessage) -> list[bytes]:
    # Bodies are decoded by the pipeline, one by one, so that one bad event never fails the batch.
    return [record.value or b"" for record in message.raw_message]


def create_bridge(settings: Settings) -> Bridge:
    checkpointer = checkpointer_for(settings.store.url, settings.store.wal_checkpoint_interval_ms)
    engine = store_engine(settings.store,
                          wal_autocheckpoint=BACKSTOP_PAGES if checkpointer else None)
    broker = KafkaBroker(
        settings.kafka.bootstrap_servers,
        security=faststream_security(settings.kafka),
        client_id=settings.kafka.client_id,
        enable_idempotence=True,  # implies acks=all
        graceful_timeout=30.0,
        middlewares=[transport_metrics()],
        logger=faststream_logger(),
    )
    # Output channels, declared so that they appear in the AsyncAPI document.
    outputs = {**{f"{target}.commands": topic for target, topic in settings.topics.commands().items()},
               "dead letters": settings.topics.dead_letters}
    publishers = {topic: broker.publisher(topic, title=title) for title, topic in outputs.items()}

    async def send(topic: str, key: bytes, value: bytes, headers: Mapping[str, str]) -> Any:
        return await publishers[topic].publish(value, key=key, headers=dict(headers),
                                               no_confirm=True)

    relay = OutboxRelay(engine, send)
    holder: dict[str, Bridge] = {}
    processor = build_processor(engine, settings, lambda: holder["bridge"].mappings)
    runtime = DeliveryRuntime(processor, relay, settings.retry,
                              [*runtime_observers(settings), *filter(None, [checkpointer])])

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
        title="events",
        description="CSM, FSM and ITSM record events (contract envelope), in batches",
    )
    async def on_events(body: list[bytes], message: KafkaMessage) -> None:
        await runtime.handle(message)

    async def on_startup() -> None:
        await upgrade(settings.store.url)
        if not is_sqlite(settings.store.url):
            async with engine.begin() as conn:  # the portal's second wall (idempotent)
                await install_rls(conn, settings.store.portal_role)
        bridge.reloader = MappingReloader(settings.mappings_dir)

    async def after_startup() -> None:
        await relay.drain()  # what a crash left unsent goes out first
        assert bridge.reloader is not None
        bridge.tasks = [
            _spawn(_relay_loop(relay)),
            _spawn(bridge.reloader.watch(bridge.stopping)),
        ]
        if checkpointer is not None:
            bridge.tasks.append(_spawn(checkpointer.run(bridge.stopping)))

    async def on_shutdown() -> None:
        bridge.stopping.set()
        with contextlib.suppress(Exception):  # the consumer is still open: commit what is done
            await runtime.stop()
        for task in bridge.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def after_shutdown() -> None:
        with contextlib.suppress(Exception):
            await relay.drain()
        await engine.dispose()
        await reader.dispose()

    app = AsgiFastStream(broker, asgi_routes=asgi_routes(lambda: holder["bridge"]),
                         on_startup=[on_startup], after_startup=[after_startup],
                         on_shutdown=[on_shutdown], after_shutdown=[after_shutdown],
                         specification=specification(broker), logger=faststream_logger(),
                         lifespan=observability_lifespan(lambda: holder["bridge"]))
    reader = store_engine(settings.store, writer=False)
    portal = create_portal_app(reader, settings.http.portal_token,
                               portal_role=settings.store.portal_role)
    bridge = Bridge(settings, broker, app, runtime, relay, engine, publishers,
                    asgi=with_portal(app, portal), checkpointer=checkpointer)
    holder["bridge"] = bridge
    return bridge


def _spawn(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    return asyncio.get_running_loop().create_task(coro)


async def _relay_loop(relay: OutboxRelay, tick_s: float = 0.25, drain_every: int = 8) -> None:
    """Write the marks of published rows that no batch took along (an idle bridge), and every
    few ticks publish rows a failed publish left behind (older than a few seconds, so that the
    batch path, which publishes its own rows right after commit, is not raced)."""
    ticks = 0
    while True:
        await asyncio.sleep(tick_s)
        ticks += 1
        try:
            await relay.flush_marks(older_than_s=tick_s)
            if ticks % drain_every == 0:
                await relay.drain(older_than=timedelta(seconds=5))
        except Exception as error:  # noqa: BLE001 - the relay must outlive any one failure
            log.warning("outbox.relay_failed", error_class=type(error).__name__)
