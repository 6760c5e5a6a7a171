"""What the observers of a running bridge see of it: a small protocol, not the whole bridge.

The sampler and the HTTP surface read the bridge's telemetry (its metrics, history, progress
and read engine) and ask its parts a few questions; ``bridge.app.Bridge`` answers them. Nothing
here can start, stop or write anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bridge.observability.progress import TopicPartition
from bridge.observability.telemetry import Telemetry
from bridge.settings import Settings

if TYPE_CHECKING:
    from bridge.mapping.reload import MappingReloader


class ObservedBridge(Protocol):
    """What the sampler reads."""

    @property
    def settings(self) -> Settings: ...

    @property
    def telemetry(self) -> Telemetry: ...

    @property
    def reloader(self) -> "MappingReloader | None":
        """The mappings in force (None until start-up loaded them)."""
        ...

    def assigned_partitions(self) -> set[TopicPartition] | None:
        """The event partitions this instance consumes (None when it is not consuming)."""
        ...

    def outbox_refused(self) -> int:
        """Outbox rows the broker refused for good, set aside."""
        ...

    def wal_pages(self) -> int | None:
        """SQLite only: pages in the write-ahead log at the last checkpoint."""
        ...
