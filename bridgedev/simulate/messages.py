"""The unit the simulators publish: one Kafka message for one system's events topic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridgedev.simulate.events import encode


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One message a simulated system publishes on its events topic, keyed by record sys_id."""

    source: str  # "csm" | "fsm" | "itsm": which events topic
    key: bytes
    value: bytes
    #: "population:<table>", "<change kind>", "duplicate:<kind>", "malformed:<reason>", "answer:<op>"
    kind: str
    event: dict[str, Any] | None = field(default=None, compare=False, repr=False)


def message_of(event: dict[str, Any], kind: str) -> SimMessage:
    return SimMessage(event["source"], event["sys_id"].encode(), encode(event), kind, event)
