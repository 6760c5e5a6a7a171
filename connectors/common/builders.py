"""Command builders bound to one target system (used by `connectors.<system>.commands`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from connectors.catalog import TABLES
from connectors.common.commands import Command, CommandJournalEntry
from connectors.common.events import CausedBy
from connectors.common.literals import CommandOperation, JournalElement, System
from connectors.common.values import Reference

FieldValue = str | Reference | None
JournalItem = CommandJournalEntry | tuple[JournalElement, str]


class CommandBuilder:
    """Builds commands for one system; raises `ValueError` (naming the field) on a table or
    field the catalog does not have for that system."""

    def __init__(self, system: System) -> None:
        self.system: System = system

    def insert(
        self,
        table: str,
        fields: Mapping[str, FieldValue],
        *,
        command_id: str,
        correlation_id: str,
        caused_by: CausedBy,
        journal: Iterable[JournalItem] = (),
    ) -> Command:
        """Create a record; `correlation_id` comes back in the inserted record."""
        return self._build(
            table,
            "insert",
            "",
            fields,
            command_id=command_id,
            correlation_id=correlation_id,
            caused_by=caused_by,
            journal=journal,
        )

    def update(
        self,
        table: str,
        sys_id: str,
        fields: Mapping[str, FieldValue],
        *,
        command_id: str,
        caused_by: CausedBy,
        journal: Iterable[JournalItem] = (),
    ) -> Command:
        """Change fields of an existing record and/or append journal entries."""
        return self._build(
            table,
            "update",
            sys_id,
            fields,
            command_id=command_id,
            correlation_id="",
            caused_by=caused_by,
            journal=journal,
        )

    def note(
        self,
        table: str,
        sys_id: str,
        text: str,
        *,
        command_id: str,
        caused_by: CausedBy,
        element: JournalElement = "work_notes",
    ) -> Command:
        """Append one journal entry to a record, changing no field."""
        return self.update(table, sys_id, {}, command_id=command_id, caused_by=caused_by, journal=[(element, text)])

    def _build(
        self,
        table: str,
        operation: CommandOperation,
        sys_id: str,
        fields: Mapping[str, FieldValue],
        *,
        command_id: str,
        correlation_id: str,
        caused_by: CausedBy,
        journal: Iterable[JournalItem],
    ) -> Command:
        spec = TABLES.get(table)
        if spec is None or spec.system != self.system:
            raise ValueError(f"table {table!r} is not a {self.system} table")
        return Command(
            command_id=command_id,
            target=self.system,
            table=table,
            operation=operation,
            sys_id=sys_id,
            correlation_id=correlation_id,
            # Most values are already strings: only the others go through `_wire_value`.
            fields={
                name: value if value.__class__ is str else _wire_value(name, value) for name, value in fields.items()
            },
            journal=tuple(_journal_entry(item) for item in journal) if journal else (),
            caused_by=caused_by,
        )


def _wire_value(name: str, value: FieldValue) -> str:
    if value is None:
        return ""
    if isinstance(value, Reference):
        return value.value
    if not isinstance(value, str):
        raise ValueError(f"field {name!r}: command values are strings")
    return value


def _journal_entry(item: JournalItem) -> CommandJournalEntry:
    if isinstance(item, CommandJournalEntry):
        return item
    element, value = item
    return CommandJournalEntry(element, value)
