"""One record at a time: how a batch that keeps failing is taken apart, in the bridge
(``bridge.runtime``) and in ``bridge replay`` alike.

A batch fails as a whole when something outside any one event's handling fails: the batch's
shared writes or their commit (a value the store refuses), a change hook, the publish. Run one
record at a time, the records that do not cause it go through, and the one that does fails on
its own: it is dead-lettered (stage ``batch``) and the rest goes on. An outage (the store or the
broker unavailable) says nothing about the record: it is raised, for the caller to wait out.
"""

from __future__ import annotations

from typing import Awaitable, Callable, Sequence, TypeVar

from bridge.pipeline.errors import is_transient
from bridge.pipeline.records import RawRecord

T = TypeVar("T")


async def each_alone(
    raws: Sequence[RawRecord],
    run: Callable[[list[RawRecord]], Awaitable[T]],
    dead_letter: Callable[[RawRecord, Exception], Awaitable[T]],
) -> list[tuple[RawRecord, T]]:
    """``run`` each record as a batch of its own; ``dead_letter`` one that fails for anything
    but an outage. What each gave, in order."""
    done: list[tuple[RawRecord, T]] = []
    for raw in raws:
        try:
            result = await run([raw])
        except Exception as error:  # noqa: BLE001 - this record fails on its own
            if is_transient(error):
                raise
            result = await dead_letter(raw, error)
        done.append((raw, result))
    return done
