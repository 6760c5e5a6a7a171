"""What the HTTP surface sees of a running bridge: what the sampler sees, and three questions."""

from __future__ import annotations

from typing import Any, Mapping, Protocol

from bridge.observability import ObservedBridge


class ServedBridge(ObservedBridge, Protocol):
    async def broker_answers(self, timeout_s: float) -> bool:
        """Whether the broker answers a metadata request within ``timeout_s``."""
        ...

    def liveness_failure(self) -> dict[str, Any] | None:
        """Why the bridge cannot make progress and must be restarted (the consumer stopped for
        good, the event loop blocked), or None."""
        ...

    def consuming(self) -> bool:
        """Whether the event consumer runs (started, and not stopped)."""
        ...

    def outcomes(self) -> Mapping[str, int]:
        """Events by outcome since start."""
        ...
