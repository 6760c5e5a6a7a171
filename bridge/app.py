"""The bridge as one FastStream application around its consumer of the three event topics: the
composition root, where the parts are built and wired, each by a small builder.

FastStream runs the application: start-up and shutdown, the producers behind the outbox, the
HTTP surface, the AsyncAPI document. The event topics are polled by
:class:`bridge.kafka.consumer.EventConsumer` (why not FastStream's batch subscriber: see there),
and each batch goes through :class:`bridge.runtime.DeliveryRuntime`, the delivery policy
(commit after store + publish, retries, rewind). Offsets are committed by the bridge
(``bridge.commit``) once a batch's outputs are acknowledged: never before, never auto-commit.

The HTTP surface and the sampler see the :class:`Bridge` through small protocols
(``bridge.http.ServedBridge``, ``bridge.observability.ObservedBridge``), never as a whole.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Awaitable, Callable, Coroutine, Mapping

import structlog
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.publisher import DefaultPublisher
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.http import asgi_routes
from bridge.http.dispatch import with_portal
from bridge.kafka.admin import known_message_size_limits
from bridge.kafka.clients import faststream_security
from bridge.kafka.consumer import EventConsumer
from bridge.logs import faststream_logger
from bridge.mapping import MappingReloader, MappingSet
from bridge.observability import Telemetry, observability_lifespan
from bridge.observability.asyncapi import specification
from bridge.observability.tracing import install_tracing, publish_tracing, publishing_in_trace_of
from bridge.observability.watchdog import LoopWatchdog
from bridge.pipeline.factory import build_processor
from bridge.pipeline.outbox import HEADER_PREFIX, OutboxRelay
from bridge.portal import create_portal_app
from bridge.runtime import BatchObserver, DeliveryRuntime
from bridge.settings import Settings, TopicNames
from bridge.store.batch_store import BatchStore, open_batch_store
from bridge.store.checkpoint import BACKSTOP_PAGES, WalCheckpointer, checkpointer_for
from bridge.store.engine import is_sqlite, store_engine
from bridge.store.migrate import upgrade
from bridge.store.retention import pruning_loop
from bridge.visibility import install_rls

log = structlog.get_logger("bridge.app")

#: What the outbox relay publishes with: topic, key, value, headers → the broker's answer.
Send = Callable[[str, bytes, bytes, Mapping[str, str]], Awaitable[Any]]


class MappingsInForce:
    """The mappings the flows use: loaded on start-up (the files are read then, not when the
    bridge is built), swapped by the reloader on hot reload."""

    def __init__(self) -> None:
        self.reloader: MappingReloader | None = None

    def active(self) -> MappingSet:
        assert self.reloader is not None, "mappings are loaded on start-up"
        return self.reloader.active


@dataclass
class Bridge:
    """Everything one running bridge holds, and its start-up and shutdown."""

    settings: Settings
    broker: KafkaBroker
    runtime: DeliveryRuntime
    relay: OutboxRelay
    store: BatchStore
    publishers: dict[str, DefaultPublisher]  # what broker.publisher() returns, by topic
    consumer: EventConsumer
    telemetry: Telemetry
    watchdog: LoopWatchdog
    portal_reader: AsyncEngine
    in_force: MappingsInForce = field(default_factory=MappingsInForce)
    checkpointer: WalCheckpointer | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    tracer_provider: TracerProvider | None = None  # set on start-up when tracing is on
    # Built around the bridge by `create_bridge` (they call its hooks and read it):
    app: AsgiFastStream = field(init=False)
    asgi: Any = field(init=False)  # what the HTTP server runs: the portal beside FastStream's app

    @property
    def reloader(self) -> MappingReloader | None:
        return self.in_force.reloader

    @property
    def mappings(self) -> MappingSet:
        return self.in_force.active()

    # -- what the HTTP surface and the sampler ask (ServedBridge) ---------------------------

    async def broker_answers(self, timeout_s: float) -> bool:
        return bool(await self.broker.ping(timeout=timeout_s))

    def liveness_failure(self) -> dict[str, Any] | None:
        stopped = self.consumer.stopped_by_itself()
        if stopped is not None:
            return {"why": "the event consumer stopped", "error": stopped}
        blocked = self.watchdog.failure()
        if blocked is not None:
            return {"why": blocked, "error": "EventLoopBlocked"}
        return None

    def consuming(self) -> bool:
        return self.consumer.running

    def outcomes(self) -> Mapping[str, int]:
        return self.runtime.stats.outcomes

    def assigned_partitions(self) -> set[tuple[str, int]] | None:
        return self.consumer.assigned()

    def outbox_refused(self) -> int:
        return len(self.relay.refused)

    def wal_pages(self) -> int | None:
        checkpoint = self.checkpointer.last if self.checkpointer is not None else None
        return checkpoint.log_pages if checkpoint is not None and checkpoint.log_pages >= 0 else None

    # -- FastStream's hooks ------------------------------------------------------------------

    async def on_startup(self) -> None:
        settings = self.settings
        self.tracer_provider = install_tracing(settings)
        await upgrade(settings.store.url)
        if not is_sqlite(settings.store.url):
            owner = store_engine(settings.store)
            try:
                async with owner.begin() as conn:  # the portal's second wall (idempotent)
                    await install_rls(conn, settings.store.portal_role)
            finally:
                await owner.dispose()
        await self.store.open()
        self.in_force.reloader = MappingReloader(settings.mappings_dir)

    async def after_startup(self) -> None:
        # A message larger than its topic takes is not sent as it is (a dead letter is cut down,
        # a command set aside): a broker's refusal would stop the producer's partition.
        self.relay.limits.update(await known_message_size_limits(self.settings, list(self.publishers)))
        await self.relay.drain()  # what a crash left unsent goes out first
        assert self.reloader is not None
        self.tasks = [
            _spawn(_relay_loop(self.relay)),
            _spawn(self.reloader.watch(self.stopping)),
            _spawn(self.watchdog.run()),
            _spawn(pruning_loop(self.store, self.settings.retention, self.stopping)),
        ]
        if self.checkpointer is not None:
            self.tasks.append(_spawn(self.checkpointer.run(self.stopping)))
        await self.consumer.start()

    async def on_shutdown(self) -> None:
        self.stopping.set()
        await self.consumer.stop()  # the batch in hand finished and settled, offsets committed
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def after_shutdown(self) -> None:
        with contextlib.suppress(Exception):
            await self.relay.drain()
        await self.store.close()
        await self.portal_reader.dispose()
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()  # exports the spans still buffered


def create_bridge(settings: Settings) -> Bridge:
    bridge = _bridge(settings)
    bridge.app = _application(bridge)
    portal = create_portal_app(bridge.portal_reader, settings.http.portal_token, portal_role=settings.store.portal_role)
    bridge.asgi = with_portal(bridge.app, portal)
    return bridge


def _bridge(settings: Settings) -> Bridge:
    checkpointer = checkpointer_for(settings.store.url, settings.store.wal_checkpoint_interval_ms)
    store = open_batch_store(settings.store, wal_autocheckpoint=BACKSTOP_PAGES if checkpointer else None)
    broker = _kafka_broker(settings)
    publishers = _publishers(broker, settings.topics)
    relay = OutboxRelay(store, _sender(publishers, settings))
    telemetry = Telemetry(settings)
    in_force = MappingsInForce()
    runtime = _runtime(settings, store, relay, in_force, [telemetry, *filter(None, [checkpointer])])
    watchdog = LoopWatchdog(
        settings.probes.loop_blocked_s, on_block=lambda seconds: telemetry.metrics.loop_blocks.inc()
    )
    return Bridge(
        settings,
        broker,
        runtime,
        relay,
        store,
        publishers,
        EventConsumer(settings, runtime),
        telemetry,
        watchdog,
        portal_reader=store_engine(settings.store, writer=False),
        in_force=in_force,
        checkpointer=checkpointer,
    )


def _kafka_broker(settings: Settings) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka.bootstrap_servers,
        security=faststream_security(settings.kafka),
        client_id=settings.kafka.client_id,
        enable_idempotence=True,  # implies acks=all
        graceful_timeout=30.0,
        logger=faststream_logger(),
        middlewares=publish_tracing(settings),
    )


def _publishers(broker: KafkaBroker, topics: TopicNames) -> dict[str, DefaultPublisher]:
    """Output channels by topic, declared so that they appear in the AsyncAPI document."""
    outputs = {
        **{f"{target}.commands": topic for target, topic in topics.commands().items()},
        "dead letters": topics.dead_letters,
    }
    return {topic: broker.publisher(topic, title=title) for title, topic in outputs.items()}


def _sender(publishers: Mapping[str, DefaultPublisher], settings: Settings) -> Send:
    async def send(topic: str, key: bytes, value: bytes, headers: Mapping[str, str]) -> Any:
        # FastStream writes a `correlation_id` header on every message (a random one unless
        # given): it is the message's own id, so a re-published message carries the same.
        with publishing_in_trace_of(headers, settings):
            return await publishers[topic].publish(
                value,
                key=key,
                headers=dict(headers),
                no_confirm=True,
                correlation_id=headers.get(HEADER_PREFIX + "message-id"),
            )

    return send


def _runtime(
    settings: Settings, store: BatchStore, relay: OutboxRelay, in_force: MappingsInForce, observers: list[BatchObserver]
) -> DeliveryRuntime:
    processor = build_processor(store, settings, in_force.active)
    return DeliveryRuntime(
        processor, relay, settings.retry, observers, commit_interval_s=settings.consumer.commit_interval_ms / 1000
    )


def _application(bridge: Bridge) -> AsgiFastStream:
    return AsgiFastStream(
        bridge.broker,
        asgi_routes=asgi_routes(bridge),
        on_startup=[bridge.on_startup],
        after_startup=[bridge.after_startup],
        on_shutdown=[bridge.on_shutdown],
        after_shutdown=[bridge.after_shutdown],
        specification=specification(bridge.broker),
        logger=faststream_logger(),
        lifespan=observability_lifespan(bridge),
    )


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
