"""Test harness: contract events for the index's tables, delivered through the real pipeline.

``Events`` makes successive versions of records, as CSM, FSM and ITSM send them (each call is
the next ``sys_mod_count``; a delete carries the record's last known state). ``Store.deliver``
encodes them as the contract's messages and hands them, as one batch, to the bridge's own
``BatchProcessor`` on its own batch store (SQLite or PostgreSQL): decode, dedupe, stale guard,
the flows, and the visibility index kept in the batch's transaction by the same hook the
running bridge installs. Nothing of the write path is copied here.

``Store.live()`` is the test's own model of what the source systems hold (the newest version
of each record delivered so far, deleted ones left out): the oracles read it, never the store.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.store.metadata import metadata
from connectors.catalog import TABLES
from tests.pipeline.harness import Harness

CASE_REFS = (
    "account",
    "partner",
    "contact",
    "consumer",
    "partner_contact",
    "incident",
    "problem",
    "change",
    "caused_by",
)
#: outcomes that say the pipeline did not apply an event as a new version of its record
NOT_APPLIED = ("duplicate", "stale", "dead_lettered")


def new_id() -> str:
    return uuid.uuid4().hex


def ref(sys_id: str | None, label: str = "") -> dict[str, str] | str:
    return {"value": sys_id, "display_value": label} if sys_id else ""


@dataclass(frozen=True)
class Event:
    table: str
    sys_id: str
    mod_count: int
    operation: str  # insert | update | delete
    record: dict[str, Any]
    changed_fields: tuple[str, ...] = ()
    #: one id per event: delivering the same ``Event`` twice is a duplicate delivery
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def message(self) -> dict[str, Any]:
        """The event as its system publishes it (the contract's envelope)."""
        return {
            "event_id": self.event_id,
            "source": TABLES[self.table].system,
            "table": self.table,
            "operation": self.operation,
            "action": None,
            "action_args": {},
            "sys_id": self.sys_id,
            "sys_mod_count": str(self.mod_count),
            "sys_updated_on": "2026-11-22 10:15:00",
            "sys_updated_by": "test.harness",
            "caused_by_command": None,
            "changed_fields": list(self.changed_fields),
            "record": self.record,
            "journal": [],
        }


@dataclass
class Events:
    """Makes successive versions of records (each call is the next version)."""

    counts: dict[str, int] = field(default_factory=dict)
    last: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, table: str, sys_id: str, **record: Any) -> Event:
        count = self.counts.get(sys_id, -1) + 1
        self.counts[sys_id] = count
        before = self.last.get(sys_id)
        self.last[sys_id] = record
        if count == 0 or before is None:
            return Event(table, sys_id, count, "insert" if count == 0 else "update", record, tuple(record))
        changed = tuple(name for name in record if before.get(name) != record[name])
        return Event(table, sys_id, count, "update", record, changed)

    def delete(self, table: str, sys_id: str, **record: Any) -> Event:
        """A delete: the record's last known state, as the contract says (or ``record``)."""
        count = self.counts.get(sys_id, -1) + 1
        self.counts[sys_id] = count
        return Event(table, sys_id, count, "delete", record or dict(self.last.get(sys_id, {})))

    def account(self, sys_id: str, name: str = "Account", parent: str | None = None) -> Event:
        return self.put("customer_account", sys_id, number="ACC", name=name, parent=ref(parent))

    def relationship(self, sys_id: str, a: str | None, b: str | None) -> Event:
        return self.put(
            "account_relationship", sys_id, from_company=ref(a), to_company=ref(b), relationship_type="related"
        )

    def contact(self, sys_id: str, account: str | None, roles: str = "customer") -> Event:
        return self.put("customer_contact", sys_id, name="N", email="e", account=ref(account), roles=roles)

    def consumer(self, sys_id: str) -> Event:
        return self.put("csm_consumer", sys_id, name="N", email="e")

    def contact_relationship(self, sys_id: str, contact: str | None, company: str | None) -> Event:
        return self.put("sn_customerservice_contact_relationship", sys_id, contact=ref(contact), company=ref(company))

    def case(self, sys_id: str, number: str, table: str = "sn_customerservice_case", **refs: str | None) -> Event:
        """A case with the references named (the others empty), as CSM sends them."""
        return self.put(
            table,
            sys_id,
            number=number,
            sys_class_name=table,
            state="10",
            short_description=f"Case {number}",
            **{name: ref(refs.get(name), f"label of {name}") for name in CASE_REFS},
        )

    def itsm(self, table: str, sys_id: str, number: str, state: str = "2", parent: str | None = None) -> Event:
        """An incident, problem or change_request; or an sc_request (``request_state``, ``parent``)."""
        if table == "sc_request":
            return self.put(
                table,
                sys_id,
                number=number,
                request_state=state,
                parent=ref(parent, "CS"),
                short_description=f"About {number}",
                correlation_id="",
            )
        return self.put(
            table, sys_id, number=number, state=state, short_description=f"About {number}", correlation_id=""
        )

    def work_order(self, sys_id: str, number: str, **refs: str | None) -> Event:
        fields = ("account", "partner", "contact", "consumer", "partner_contact", "initiated_from")
        return self.put(
            "wm_order",
            sys_id,
            number=number,
            state="assigned",
            priority="3",
            short_description=f"Work {number}",
            **{name: ref(refs.get(name), f"label of {name}") for name in fields},
        )

    def task(self, sys_id: str, parent: str, number: str) -> Event:
        return self.put(
            "wm_task", sys_id, number=number, parent=ref(parent), state="assigned", short_description="Task"
        )


class Store:
    """The bridge's write path on ``engine``'s database, fed with ``Event`` batches."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.pipeline = Harness(engine)
        #: the model: sys_id → (table, newest version delivered, deleted, record)
        self.state: dict[str, tuple[str, int, bool, dict[str, Any]]] = {}
        self.delivered: set[str] = set()  # event ids

    async def reset(self) -> None:
        """Forget everything: an empty store (every table of the bridge's), an empty model."""
        self.state.clear()
        self.delivered.clear()
        async with self.engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(delete(table))

    async def deliver(self, *events: Event) -> None:
        """One batch through the real batch processor, in one transaction. Each event's outcome
        is the one the model expects: a new version is applied (whatever its flows decide), a
        redelivered event is a duplicate, an older version is stale; none is dead-lettered."""
        expected = [self._model(event) for event in events]
        result = await self.pipeline.feed(*(event.message() for event in events))
        outcomes = [outcome for _, outcome in result.events]
        assert len(outcomes) == len(events)
        for event, want, got in zip(events, expected, outcomes, strict=True):
            if want == "new":
                assert got not in NOT_APPLIED, (event.table, event.operation, got)
            else:
                assert got == want, (event.table, event.operation, got, want)

    def _model(self, event: Event) -> str:
        """Apply ``event`` to the model: ``new``, ``duplicate`` or ``stale``."""
        if event.event_id in self.delivered:
            return "duplicate"
        self.delivered.add(event.event_id)
        stored = self.state.get(event.sys_id)
        if stored is not None and stored[1] >= event.mod_count:
            return "stale"
        self.state[event.sys_id] = (event.table, event.mod_count, event.operation == "delete", event.record)
        return "new"

    def live(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """sys_id → (table, record) of every record not deleted (what an oracle reads)."""
        return {sys_id: (table, data) for sys_id, (table, _, deleted, data) in self.state.items() if not deleted}
