"""Raw Kafka records as the pipeline sees them, independent of the consumer library."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int | None = None
    headers: tuple[tuple[str, bytes], ...] = ()

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return None

    @classmethod
    def from_consumer_record(cls, record: object) -> "RawRecord":
        return cls(record.topic, record.partition, record.offset,  # type: ignore[attr-defined]
                   record.key, record.value, record.timestamp,  # type: ignore[attr-defined]
                   tuple(record.headers or ()))  # type: ignore[attr-defined]
