"""When the bridge commits its consumer offsets: the checkpoint policy, in one place.

Offsets are committed only for batches that are *settled*: their store transaction committed
and every output acknowledged by the broker (``bridge.runtime``). Which settled offsets go to
the group coordinator, and when, is this package's: :class:`OffsetCommitter`.
"""

from bridge.commit.committer import Consumer, OffsetCommitter, next_offsets

__all__ = ["Consumer", "OffsetCommitter", "next_offsets"]
