"""The bridge as one FastStream application around its consumer of the three event topics.

FastStream runs the application: start-up and shutdown, the producers behind the outbox, the
HTTP surface, the AsyncAPI document. The event topics are polled by
:class:`bridge.kafka.consumer.EventConsumer` (why not FastStream's batch subscriber: see there),
and each batch goes through :class:`bridge.runtime.DeliveryRuntime`, the delivery policy
(commit after store + publish, retries, rewind). Offsets are committed by the bridge
(``bridge.commit``) once a batch's outputs are acknowledged: never before, never auto-commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Coroutine, Mapping

import structlog
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.publisher import DefaultPublisher

from bridge.http import asgi_routes
from bridge.http.dispatch import with_portal
from bridge.kafka.admin import known_message_size_limits
from bridge.kafka.clients import faststream_security
from bridge.kafka.consumer import EventConsumer
from bridge.logs import faststream_logger
from bridge.mapping import MappingReloader
from bridge.observability import observability_lifespan, runtime_observers
from bridge.observability.asyncapi import specification
from bridge.pipeline.factory import build_processor
from bridge.pipeline.outbox import HEADER_PREFIX, OutboxRelay
from bridge.portal import create_portal_app
from bridge.runtime import DeliveryRuntime
from bridge.settings import Settings
from bridge.store.batch_store import BatchStore, open_batch_store
from bridge.store.checkpoint import BACKSTOP_PAGES, WalCheckpointer, checkpointer_for
from bridge.store.engine import is_sqlite, store_engine
from bridge.store.migrate import upgrade
from bridge.visibility import install_rls

log = structlog.get_logger("bridge.app")


@dataclass
class Bridge:
    """Everything one running bridge holds."""

    settings: Settings
    broker: KafkaBroker
    app: AsgiFastStream
    runtime: DeliveryRuntime
    relay: OutboxRelay
    store: BatchStore
    publishers: dict[str, DefaultPublisher]  # what broker.publisher() returns, by topic
    consumer: EventConsumer
    asgi: Any = None  # what the HTTP server runs: the portal beside FastStream's app
    reloader: MappingReloader | None = None
    checkpointer: WalCheckpointer | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def mappings(self) -> Any:
        assert self.reloader is not None, "mappings are loaded on start-up"
        return self.reloader.active


def create_bridge(settings: Settings) -> Bridge:
    checkpointer = checkpointer_for(settings.store.url, settings.store.wal_checkpoint_interval_ms)
    store = open_batch_store(settings.store,
                             wal_autocheckpoint=BACKSTOP_PAGES if checkpointer else None)
    broker = KafkaBroker(
        settings.kafka.bootstrap_servers,
        security=faststream_security(settings.kafka),
        client_id=settings.kafka.client_id,
        enable_idempotence=True,  # implies acks=all
        graceful_timeout=30.0,
        logger=faststream_logger(),
    )
    # Output channels, declared so that they appear in the AsyncAPI document.
    outputs = {**{f"{target}.commands": topic for target, topic in settings.topics.commands().items()},
               "dead letters": settings.topics.dead_letters}
    publishers = {topic: broker.publisher(topic, title=title) for title, topic in outputs.items()}

    async def send(topic: str, key: bytes, value: bytes, headers: Mapping[str, str]) -> Any:
        # FastStream writes a `correlation_id` header on every message (a random one unless
        # given): it is the message's own id, so a re-published message carries the same.
        return await publishers[topic].publish(
            value, key=key, headers=dict(headers), no_confirm=True,
            correlation_id=headers.get(HEADER_PREFIX + "message-id"))

    relay = OutboxRelay(store, send)
    holder: dict[str, Bridge] = {}
    processor = build_processor(store, settings, lambda: holder["bridge"].mappings)
    runtime = DeliveryRuntime(processor, relay, settings.retry,
                              [*runtime_observers(settings), *filter(None, [checkpointer])],
                              commit_interval_s=settings.consumer.commit_interval_ms / 1000)
    consumer = EventConsumer(settings, runtime)

    async def on_startup() -> None:
        await upgrade(settings.store.url)
        if not is_sqlite(settings.store.url):
            owner = store_engine(settings.store)
            try:
                async with owner.begin() as conn:  # the portal's second wall (idempotent)
                    await install_rls(conn, settings.store.portal_role)
            finally:
                await owner.dispose()
        await store.open()
        bridge.reloader = MappingReloader(settings.mappings_dir)

    async def after_startup() -> None:
        # A message larger than its topic takes is not sent as it is (a dead letter is cut down,
        # a command set aside): a broker's refusal would stop the producer's partition.
        relay.limits.update(await known_message_size_limits(settings, list(outputs.values())))
        await relay.drain()  # what a crash left unsent goes out first
        assert bridge.reloader is not None
        bridge.tasks = [
            _spawn(_relay_loop(relay)),
            _spawn(bridge.reloader.watch(bridge.stopping)),
        ]
        if checkpointer is not None:
            bridge.tasks.append(_spawn(checkpointer.run(bridge.stopping)))
        await consumer.start()

    async def on_shutdown() -> None:
        bridge.stopping.set()
        await consumer.stop()  # the batch in hand finished and settled, offsets committed
        for task in bridge.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def after_shutdown() -> None:
        with contextlib.suppress(Exception):
            await relay.drain()
        await store.close()
        await reader.dispose()

    app = AsgiFastStream(broker, asgi_routes=asgi_routes(lambda: holder["bridge"]),
                         on_startup=[on_startup], after_startup=[after_startup],
                         on_shutdown=[on_shutdown], after_shutdown=[after_shutdown],
                         specification=specification(broker), logger=faststream_logger(),
                         lifespan=observability_lifespan(lambda: holder["bridge"]))
    reader = store_engine(settings.store, writer=False)
    portal = create_portal_app(reader, settings.http.portal_token,
                               portal_role=settings.store.portal_role)
    bridge = Bridge(settings, broker, app, runtime, relay, store, publishers, consumer,
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
