"""The store access layer of the batch path: one transaction per batch, run on the driver.

:func:`open_batch_store` gives the store of a URL: :class:`bridge.store.sqlite_store.SqliteStore`
(``sqlite3`` on one dedicated connection thread) or
:class:`bridge.store.postgres_store.PostgresStore` (``asyncpg``). Both run the same plans
(``bridge.store.plan``); a batch is ``begin`` → ``run`` (its reads, and any it finds it needs
while its flows run) → ``commit`` (its writes and the commit, together) or ``rollback``.

Errors are the drivers' own (``sqlite3.Error``, ``asyncpg.PostgresError``, ``OSError``…);
``bridge.pipeline.errors`` tells transient ones from data the store refuses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol, TypeVar

from sqlalchemy.engine import make_url

from bridge.settings import StoreSettings
from bridge.store.plan import Plan

T = TypeVar("T")


class StoreTransaction(Protocol):
    """One write transaction (the batch's)."""

    #: wall and CPU seconds of the commit itself (within ``commit``, which runs the writes too)
    commit_seconds: tuple[float, float]

    async def run(self, plan: Plan[T]) -> T:
        """Run a plan inside the transaction."""
        ...

    async def commit(self, plan: Plan[None] | None = None) -> None:
        """Run ``plan`` (the batch's writes), then commit: together, in one hand-off where the
        driver allows."""
        ...

    async def rollback(self) -> None: ...


class BatchStore(Protocol):
    """A store the batch path writes to."""

    dialect: str
    #: CPU seconds spent on the store's work in a thread of its own (SQLite's connection
    #: thread); 0 where it all runs on the event loop (asyncpg)
    thread_cpu_s: float

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def begin(self) -> StoreTransaction:
        """A new write transaction (SQLite takes the write lock at once)."""
        ...

    async def run(self, plan: Plan[T]) -> T:
        """Run a plan in a transaction of its own, committed."""
        ...


class PlanRunner(ABC):
    """``run`` for a store whose ``begin`` gives a :class:`StoreTransaction`."""

    @abstractmethod
    async def begin(self) -> StoreTransaction:
        """The store's own: a new write transaction."""

    async def run(self, plan: Plan[T]) -> T:
        """Run a plan in a transaction of its own: committed, or rolled back if it fails."""
        transaction = await self.begin()
        try:
            result = await transaction.run(plan)
        except BaseException:
            await transaction.rollback()
            raise
        await transaction.commit()
        return result


def open_batch_store(store: StoreSettings, *, wal_autocheckpoint: int | None = None) -> BatchStore:
    """The batch store for ``store.url`` (not opened yet: call ``open``)."""
    url = make_url(store.url)
    if url.get_backend_name() == "sqlite":
        from bridge.store.sqlite_store import SqliteStore

        return SqliteStore(
            url.database or "", busy_timeout_ms=store.busy_timeout_ms, wal_autocheckpoint=wal_autocheckpoint
        )
    from bridge.store.postgres_store import PostgresStore

    return PostgresStore(url.set(drivername="postgresql").render_as_string(hide_password=False))
