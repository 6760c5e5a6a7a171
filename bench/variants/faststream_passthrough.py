"""B1, the framework's cost: a FastStream passthrough configured like the bridge's subscriber.

Batch subscriber (500 records, 100 ms), MANUAL ack, ``publish(no_confirm=True)`` for every
output then one gather, then one ack (commit) per batch. Same broker options as the bridge.

``python -m bench.variants.faststream_passthrough BOOTSTRAP GROUP OUTPUT INPUT...``
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker, KafkaMessage

from bench.variants import FANOUT_HEADER, fanout


def _records(message: Any) -> Any:
    return message.raw_message  # keep the ConsumerRecords: no body decoding in a passthrough


def build(bootstrap: str, group: str, output: str, inputs: list[str]) -> FastStream:
    broker = KafkaBroker(bootstrap, enable_idempotence=True, graceful_timeout=30.0)
    publisher = broker.publisher(output)

    @broker.subscriber(
        *inputs,
        group_id=group,
        batch=True,
        max_records=500,
        batch_timeout_ms=100,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        ack_policy=AckPolicy.MANUAL,
        decoder=_records,
    )
    async def copy(body: Any, message: KafkaMessage) -> None:
        pending = []
        for record in message.raw_message:
            headers = {k: v.decode() for k, v in record.headers if k != FANOUT_HEADER}
            for _ in range(fanout(record.headers)):
                pending.append(await publisher.publish(record.value, key=record.key, headers=headers, no_confirm=True))
        await asyncio.gather(*pending)
        await message.ack()

    return FastStream(broker)


if __name__ == "__main__":
    asyncio.run(build(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]).run())
