"""A stand-in for a batch the bridge's consumer hands the runtime, and redelivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition

from bridge.pipeline.records import RawRecord
from bridge.runtime import DeliveryRuntime
from bridge.settings import RetrySettings

#: A batch is taken apart after two failures in a row, with pauses too short to wait for.
ISOLATE_AFTER_TWO = RetrySettings(initial_delay_s=0.001, max_delay_s=0.001, isolate_after=2)


@dataclass
class Delivery:
    """A batch and the consumer it came from (itself); remembers whether its offsets were
    committed (``ack``) or it was rewound (its partitions sought back)."""

    raw_message: tuple[ConsumerRecord, ...]
    outcome: str = "pending"
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    seeks: list[tuple[TopicPartition, int]] = field(default_factory=list)

    @property
    def consumer(self) -> Delivery:  # the runtime commits the batch's offsets through it
        return self

    async def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        self.committed = {tp: meta.offset for tp, meta in offsets.items()}
        self.outcome = "ack"

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks.append((partition, offset))
        self.outcome = "rewound"

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(r.topic, r.partition) for r in self.raw_message}


def delivery_of(raws: Sequence[RawRecord]) -> Delivery:
    return Delivery(
        tuple(ConsumerRecord(r.topic, r.partition, r.offset, 0, 0, r.key, r.value, None, 0, 0, ()) for r in raws)
    )


async def redeliver(runtime: DeliveryRuntime, raws: Sequence[RawRecord], times: int = 3) -> list[str]:
    """Hand the batch to the runtime ``times`` times, as FastStream fetches a rewound batch
    again; what became of each delivery."""
    outcomes = []
    for _ in range(times):
        delivery = delivery_of(raws)
        await runtime.handle(delivery)
        await runtime.settle()  # its offsets are committed once its outputs are acknowledged
        outcomes.append(delivery.outcome)
    return outcomes
