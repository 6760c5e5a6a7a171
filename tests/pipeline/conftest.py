from __future__ import annotations

from typing import Any

import pytest
from aiokafka import AIOKafkaProducer


@pytest.fixture
async def producer(kafka_bootstrap: str) -> Any:
    client = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await client.start()
    yield client
    await client.stop()
