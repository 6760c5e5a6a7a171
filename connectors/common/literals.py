"""The contract's closed sets of names, as types (msgspec validates them and publishes them as
`enum`s in the JSON Schemas)."""

from __future__ import annotations

from typing import Final, Literal, get_args

System = Literal["csm", "fsm", "itsm"]
Operation = Literal["insert", "update", "delete", "action"]
CommandOperation = Literal["insert", "update"]
JournalElement = Literal["work_notes", "comments"]

JOURNAL_ELEMENTS: Final[frozenset[str]] = frozenset(get_args(JournalElement))
COMMAND_OPERATIONS: Final[frozenset[str]] = frozenset(get_args(CommandOperation))
