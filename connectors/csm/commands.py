"""Commands to CSM (`csm.commands`): case updates and the notes that keep agents informed."""

from __future__ import annotations

from connectors.catalog import is_case_table
from connectors.common.builders import CommandBuilder
from connectors.common.commands import Command
from connectors.common.events import CausedBy, JournalElement

_CSM = CommandBuilder("csm")

insert = _CSM.insert
update = _CSM.update
note = _CSM.note


def work_note(
    case_table: str,
    case_sys_id: str,
    text: str,
    *,
    command_id: str,
    caused_by: CausedBy,
    element: JournalElement = "work_notes",
) -> Command:
    """Append a work note (or, with `element="comments"`, a customer-visible comment) to a
    case or order case."""
    if not is_case_table(case_table):
        raise ValueError(f"table {case_table!r} is not a case table")
    return _CSM.note(case_table, case_sys_id, text, command_id=command_id, caused_by=caused_by, element=element)


__all__ = ["insert", "note", "update", "work_note"]
