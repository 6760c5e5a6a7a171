"""The event envelope as it travels: the Structs `decode_event` decodes into first, whose JSON
Schemas the AsyncAPI document publishes (with each table's record Struct for `record`).

They hold the wire's types (`sys_mod_count` is a string of digits) and its lengths; what a type
cannot say is checked by `Event` (`connectors.common.events`), which the decoder builds from
them. The contract lets unknown keys appear anywhere: `EventEnvelope` tolerates them, and the
decoder's own subclasses refuse them, so that an event carrying one takes the decoder's exact
path, which keeps them.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from msgspec import UNSET, UnsetType

from connectors.common.limits import MAX_EVENT_ID, MAX_MOD_COUNT
from connectors.common.literals import JournalElement, Operation, System
from connectors.common.values import OptionalTimestamp, SysId

EventId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_EVENT_ID,
        description="unique per event (a UUID); printable, no space at either end",
    ),
]
ModCount = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=len(str(MAX_MOD_COUNT)),
        extra_json_schema={"pattern": f"^[0-9]{{1,{len(str(MAX_MOD_COUNT))}}}$"},
        description=f"the record's version: a decimal integer, at most {MAX_MOD_COUNT}",
    ),
]


class EventJournalEntry(msgspec.Struct, frozen=True, gc=False):
    """A journal entry added by the change: `work_notes` (internal) or `comments`
    (customer-visible), on the tables that have that journal field."""

    element: JournalElement
    value: str
    sys_created_on: OptionalTimestamp = ""
    sys_created_by: str = ""


class EventEnvelope(msgspec.Struct, frozen=True, gc=False):
    """A record event (system → bridge): one change of one record. `record` is the full record
    after the change; `caused_by_command` the `command_id` of the bridge command that made it."""

    event_id: EventId
    source: System
    table: str
    operation: Operation
    sys_id: SysId
    sys_mod_count: ModCount
    record: dict[str, Any]
    action: str | None = None
    action_args: dict[str, str] = {}
    sys_updated_on: OptionalTimestamp = ""
    sys_updated_by: str = ""
    caused_by_command: str | None = None
    changed_fields: tuple[str, ...] = ()
    journal: tuple[EventJournalEntry, ...] = ()


class JournalEntry(EventJournalEntry, frozen=True, gc=False, forbid_unknown_fields=True):
    """A journal entry of an `Event`, as the decoder reads it: an entry with an unknown key
    takes the exact path, which keeps the key (`connectors.common.events.JournalEntryWithExtra`).
    Checked as part of its `Event` (which elements exist depends on the table)."""

    def to_wire(self) -> dict[str, Any]:
        return {
            "element": self.element,
            "value": self.value,
            "sys_created_on": self.sys_created_on,
            "sys_created_by": self.sys_created_by,
        }


class StrictEnvelope(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """`EventEnvelope` as the decoder's fast path reads it: unknown keys refused (they take the
    exact path), and an optional key left out is `UNSET`, not its default, so that the decoder
    can tell a document that repeats a key (msgspec keeps the last) from one that does not. The
    same keys as `EventEnvelope` (a test holds them equal)."""

    event_id: EventId
    source: System
    table: str
    operation: Operation
    sys_id: SysId
    sys_mod_count: ModCount
    # Strings and references (flat objects of strings) only: a record holding anything else
    # takes the exact path, so a record read here nests no deeper than the contract's.
    record: dict[str, str | dict[str, str]]
    action: str | None | UnsetType = UNSET
    action_args: dict[str, str] | UnsetType = UNSET
    sys_updated_on: OptionalTimestamp | UnsetType = UNSET
    sys_updated_by: str | UnsetType = UNSET
    caused_by_command: str | None | UnsetType = UNSET
    changed_fields: tuple[str, ...] | UnsetType = UNSET
    journal: tuple[JournalEntry, ...] | UnsetType = UNSET


#: The decoder of the fast path: bytes → `StrictEnvelope`, or `msgspec.DecodeError`.
ENVELOPE_DECODER: Final = msgspec.json.Decoder(StrictEnvelope)
