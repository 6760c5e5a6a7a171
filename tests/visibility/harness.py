"""Test harness: contract-shaped events for the index's tables, and a store that applies them
as the delivery pipeline does (stale versions skipped, records written, hooks called in the
batch's transaction)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bridge.store.changes import RecordChange
from bridge.store.schema import records
from bridge.visibility import apply_changes
from bridge.visibility.schema import INDEX_TABLES

SOURCE = {"wm_order": "fsm", "wm_task": "fsm",
          **dict.fromkeys(("incident", "problem", "change_request", "sc_request"), "itsm")}
CASE_REFS = ("account", "partner", "contact", "consumer", "partner_contact", "incident", "problem", "change",
             "caused_by")


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


@dataclass
class Events:
    """Makes successive versions of records (each call is the next version)."""

    counts: dict[str, int] = field(default_factory=dict)

    def put(self, table: str, sys_id: str, **record: Any) -> Event:
        count = self.counts.get(sys_id, -1) + 1
        self.counts[sys_id] = count
        return Event(table, sys_id, count, "insert" if count == 0 else "update", record)

    def delete(self, table: str, sys_id: str, **record: Any) -> Event:
        count = self.counts.get(sys_id, -1) + 1
        self.counts[sys_id] = count
        return Event(table, sys_id, count, "delete", record)

    def account(self, sys_id: str, name: str = "Account", parent: str | None = None) -> Event:
        return self.put("customer_account", sys_id, number="ACC", name=name, parent=ref(parent))

    def relationship(self, sys_id: str, a: str | None, b: str | None) -> Event:
        return self.put("account_relationship", sys_id, from_company=ref(a), to_company=ref(b),
                        relationship_type="related")

    def contact(self, sys_id: str, account: str | None, roles: str = "customer") -> Event:
        return self.put("customer_contact", sys_id, name="N", email="e", account=ref(account), roles=roles)

    def consumer(self, sys_id: str) -> Event:
        return self.put("csm_consumer", sys_id, name="N", email="e")

    def contact_relationship(self, sys_id: str, contact: str | None, company: str | None) -> Event:
        return self.put("sn_customerservice_contact_relationship", sys_id, contact=ref(contact), company=ref(company))

    def case(self, sys_id: str, number: str, table: str = "sn_customerservice_case", **refs: str | None) -> Event:
        """A case with the references named (the others empty), as CSM sends them."""
        return self.put(
            table, sys_id, number=number, sys_class_name=table, state="10", short_description=f"Case {number}",
            **{name: ref(refs.get(name), f"label of {name}") for name in CASE_REFS},
        )

    def itsm(self, table: str, sys_id: str, number: str, state: str = "2", parent: str | None = None) -> Event:
        """An incident, problem or change_request; or an sc_request (``request_state``, ``parent``)."""
        if table == "sc_request":
            return self.put(table, sys_id, number=number, request_state=state, parent=ref(parent, "CS"),
                            short_description=f"About {number}", correlation_id="")
        return self.put(table, sys_id, number=number, state=state, short_description=f"About {number}",
                        correlation_id="")

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
        return self.put("wm_task", sys_id, number=number, parent=ref(parent), state="assigned",
                        short_description="Task")


class Store:
    """The pipeline's part that the index sees: version guard, ``records``, hook call."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.state: dict[str, tuple[str, int, bool, dict[str, Any]]] = {}

    async def reset(self) -> None:
        """Forget everything: empty ``records`` and the index."""
        self.state.clear()
        async with self.engine.begin() as conn:
            for table in (records, *INDEX_TABLES):
                await conn.execute(delete(table))

    async def deliver(self, *events: Event) -> None:
        """One batch in one transaction."""
        async with self.engine.begin() as conn:
            changes = [change for event in events if (change := await self._write(conn, event))]
            await apply_changes(conn, changes)

    async def _write(self, conn: AsyncConnection, event: Event) -> RecordChange | None:
        stored = self.state.get(event.sys_id)
        if stored is not None and stored[1] >= event.mod_count:
            return None  # stale or duplicate
        deleted = event.operation == "delete"
        self.state[event.sys_id] = (event.table, event.mod_count, deleted, event.record)
        await conn.execute(delete(records).where(records.c.sys_id == event.sys_id))
        await conn.execute(
            records.insert().values(
                sys_id=event.sys_id,
                source=SOURCE.get(event.table, "csm"),
                table_name=event.table,
                number=event.record.get("number"),
                sys_mod_count=event.mod_count,
                deleted=deleted,
                data=event.record,
                updated_at=datetime.now(UTC),
            )
        )
        before = None if stored is None or stored[2] else stored[3]
        return RecordChange(
            SOURCE.get(event.table, "csm"),
            event.table,
            event.sys_id,
            "delete" if deleted else event.operation,  # type: ignore[arg-type]
            before,
            None if deleted else event.record,
        )

    def live(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """sys_id → (table, record) of every record not deleted (what an oracle reads)."""
        return {sys_id: (table, data) for sys_id, (table, _, deleted, data) in self.state.items() if not deleted}
