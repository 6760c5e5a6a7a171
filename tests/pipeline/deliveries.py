"""A stand-in for the batch message FastStream hands the bridge's handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from aiokafka.structs import ConsumerRecord

from bridge.pipeline.records import RawRecord


@dataclass
class Delivery:
    """What FastStream hands the batch handler; remembers whether it was acked or rewound."""

    raw_message: tuple[ConsumerRecord, ...]
    outcome: str = "pending"

    async def ack(self) -> None:
        self.outcome = "ack"

    async def nack(self) -> None:
        self.outcome = "rewound"


def delivery_of(raws: Sequence[RawRecord]) -> Delivery:
    return Delivery(tuple(ConsumerRecord(r.topic, r.partition, r.offset, 0, 0, r.key, r.value,
                                         None, 0, 0, ()) for r in raws))
