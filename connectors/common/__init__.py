"""The shared envelope of all three systems: events in, commands out.

`decode_event` turns Kafka bytes into an `Event` (or raises `DecodeError` with a reason
code); `Command` is what the bridge publishes. Both are msgspec Structs. Per-table record
Structs (generated from the catalog) live in `connectors.<system>.records`, command builders in
`connectors.<system>.commands`.
"""

from connectors.common.commands import (
    Command,
    CommandJournalEntry,
    deterministic_command_id,
)
from connectors.common.decoder import decode_event
from connectors.common.errors import REASON_CODES, DecodeError, ReasonCode
from connectors.common.events import (
    CausedBy,
    Event,
    JournalElement,
    JournalEntry,
    Operation,
    System,
)
from connectors.common.literals import CommandOperation
from connectors.common.values import Reference, is_sys_id

__all__ = [
    "REASON_CODES",
    "CausedBy",
    "Command",
    "CommandJournalEntry",
    "CommandOperation",
    "DecodeError",
    "Event",
    "JournalElement",
    "JournalEntry",
    "Operation",
    "ReasonCode",
    "Reference",
    "System",
    "decode_event",
    "deterministic_command_id",
    "is_sys_id",
]
