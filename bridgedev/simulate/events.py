"""Contract event envelopes for the simulated systems, built from the record store.

Every method changes the store first, then returns the envelope with the full record after the
change, so ``sys_mod_count`` grows by one per change and ``record`` is always current.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from bridgedev.simulate.ids import IdFactory, SimClock
from bridgedev.simulate.store import RecordStore
from connectors.catalog import TABLES

#: A journal entry to add: (element, text), element being ``work_notes`` or ``comments``.
JournalNote = tuple[str, str]


def encode(event: Mapping[str, Any]) -> bytes:
    """The wire form: compact UTF-8 JSON, keys in envelope order."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


class EventFactory:
    """Applies changes to the store and describes each one as a contract event."""

    def __init__(self, store: RecordStore, ids: IdFactory, clock: SimClock) -> None:
        self.store = store
        self._ids = ids
        self._clock = clock
        self._sequence = 0

    def insert(
        self,
        table: str,
        sys_id: str,
        values: Mapping[str, str],
        *,
        by: str,
        label: str | None = None,
        caused_by_command: str | None = None,
        journal: Iterable[JournalNote] = (),
    ) -> dict[str, Any]:
        """Create a record (``sys_mod_count`` 0); ``label`` is its display value elsewhere."""
        self.store.insert(table, sys_id, values)
        if label is not None:
            self.store.set_label(sys_id, label)
        return self._envelope(sys_id, "insert", by=by, caused_by_command=caused_by_command, journal=journal)

    def update(
        self,
        sys_id: str,
        values: Mapping[str, str],
        *,
        by: str,
        journal: Iterable[JournalNote] = (),
        caused_by_command: str | None = None,
    ) -> dict[str, Any] | None:
        """Change fields and/or add journal entries; None when nothing would change."""
        notes = [note for note in journal if note[1]]
        changed = self.store.apply(sys_id, values)
        if not changed and not notes:
            return None
        self.store.bump(sys_id)
        return self._envelope(
            sys_id, "update", by=by, changed=changed, journal=notes, caused_by_command=caused_by_command
        )

    def action(self, sys_id: str, action: str, args: Mapping[str, str], *, by: str) -> dict[str, Any]:
        """An agent pressed a button on the record; it counts as a change of the record."""
        self.store.bump(sys_id)
        return self._envelope(sys_id, "action", by=by, action=action, action_args=dict(args))

    def delete(self, sys_id: str, *, by: str) -> dict[str, Any]:
        """Remove the record; the event holds its last known state."""
        self.store.bump(sys_id)
        event = self._envelope(sys_id, "delete", by=by)
        self.store.remove(sys_id)
        return event

    def _envelope(
        self,
        sys_id: str,
        operation: str,
        *,
        by: str,
        action: str | None = None,
        action_args: dict[str, str] | None = None,
        changed: Iterable[str] = (),
        journal: Iterable[JournalNote] = (),
        caused_by_command: str | None = None,
    ) -> dict[str, Any]:
        self._sequence += 1
        table = self.store.table(sys_id)
        now = self._clock.now()
        return {
            "event_id": self._ids.uuid("event", self._sequence),
            "source": TABLES[table].system,
            "table": table,
            "operation": operation,
            "action": action,
            "action_args": action_args or {},
            "sys_id": sys_id,
            "sys_mod_count": str(self.store.mod_count(sys_id)),
            "sys_updated_on": now,
            "sys_updated_by": by,
            "caused_by_command": caused_by_command,
            "changed_fields": list(changed),
            "record": self.store.record(sys_id),
            "journal": [
                {"element": element, "value": text, "sys_created_on": now, "sys_created_by": by}
                for element, text in journal
            ],
        }
