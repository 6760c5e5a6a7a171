"""B0, the practical limit: a raw aiokafka consume → produce passthrough.

The same consumption as the bridge (``getmany(max_records=500)``, 100 ms batch timeout, earliest,
read_committed, manual commits), the same producer (idempotent, acks=all), and per batch: every
send without awaiting it, then one gather, then one commit of the batch's positions.

``python -m bench.variants.raw_passthrough BOOTSTRAP GROUP OUTPUT INPUT...``
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiokafka import AIOKafkaConsumer

from bench.kafka_io import variant_producer
from bench.variants import FANOUT_HEADER, fanout

MAX_RECORDS = 500
BATCH_TIMEOUT_MS = 100


async def passthrough(bootstrap: str, group: str, output: str, inputs: list[str]) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    consumer = AIOKafkaConsumer(
        *inputs,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    producer = variant_producer(bootstrap)
    await producer.start()
    await consumer.start()
    try:
        while not stopping.is_set():
            batch = await consumer.getmany(timeout_ms=BATCH_TIMEOUT_MS, max_records=MAX_RECORDS)
            if not batch:
                continue
            pending = []
            for records in batch.values():
                for record in records:
                    headers = [(k, v) for k, v in record.headers if k != FANOUT_HEADER]
                    for _ in range(fanout(record.headers)):
                        pending.append(await producer.send(output, record.value, key=record.key, headers=headers))
            await asyncio.gather(*pending)
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
    finally:
        await consumer.stop()
        await producer.stop()


if __name__ == "__main__":
    asyncio.run(passthrough(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
