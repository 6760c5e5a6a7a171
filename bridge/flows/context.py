"""What a flow sees while it handles one event, and what it decided.

A flow reads the event and the batch's unit of work, keeps links through it, and returns its
commands by :meth:`FlowContext.emit`: each command with the rule that decided it. It builds no
Kafka message and writes no outbox row; the pipeline turns the decided commands into outbox
rows (topic, headers, mapping version) once the event's flows have all succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from connectors.common import CausedBy, Command, Event, deterministic_command_id
from connectors.csm import commands as csm_commands

from bridge.flows.errors import FlowDataError
from bridge.mapping import MappingSet
from bridge.store.unit_of_work import BatchState, StoredRecord


@dataclass(frozen=True, slots=True)
class Decided:
    """A command a flow decided on, and the rule that decided it."""

    command: Command
    rule: str


@dataclass(slots=True)
class FlowContext:
    """One event, the batch's unit of work and the active mappings; and what the flows decided."""

    event: Event
    state: BatchState
    mappings: MappingSet
    previous: StoredRecord | None = None  # the record's state before this event, if known
    outcome: str = "applied"
    detail: str | None = None
    #: the commands decided for this event, in order
    decided: list[Decided] = field(default_factory=list)

    @property
    def is_echo(self) -> bool:
        """The change was made for one of our own commands: it must not cause another."""
        return self.event.caused_by_command is not None

    @property
    def caused_by(self) -> CausedBy:
        e = self.event
        return CausedBy(event_id=e.event_id, source=e.source, table=e.table, sys_id=e.sys_id)

    def command_id(self, rule: str, *parts: str) -> str:
        """Deterministic: the same cause and rule give the same id, on any replay or instance."""
        e = self.event
        salt = (self.state.reprocess_salt,) if self.state.reprocess_salt else ()
        return deterministic_command_id(e.source, e.sys_id, str(e.sys_mod_count), e.operation,
                                        rule, *parts, *salt)

    def emit(self, command: Command, *, rule: str) -> None:
        """Decide on a command (the pipeline writes it to the outbox with the batch)."""
        self.decided.append(Decided(command, rule))

    def note(self, case_table: str, case_sys_id: str, key: str, values: Mapping[str, Any], *,
             rule: str, id_parts: tuple[str, ...] = ()) -> bool:
        """Write a templated note on a case; False when the mappings disable that note."""
        rendered = self.mappings.render_note(key, values)
        if rendered is None:
            return False
        self.emit(csm_commands.work_note(
            case_table, case_sys_id, rendered.text, element=rendered.element,
            command_id=self.command_id(rule, case_sys_id, key, *id_parts),
            caused_by=self.caused_by,
        ), rule=rule)
        return True

    def filtered(self, outcome: str, detail: str) -> None:
        """The event needs nothing from us: say why (visible in `inspect`)."""
        self.outcome, self.detail = outcome, detail

    def reject(self, reason_code: str, detail: str) -> None:
        raise FlowDataError(reason_code, detail)

    def changed(self, field: str) -> bool:
        """Whether this event changed ``field`` (an insert sets every field)."""
        return self.event.operation == "insert" or field in self.event.changed_fields


def ref(record: Mapping[str, Any], field: str) -> str:
    """The sys_id of a reference in a contract-shaped record, or ``""``."""
    value = record.get(field)
    return str(value.get("value") or "") if isinstance(value, dict) else ""


def text(record: Mapping[str, Any], field: str) -> str:
    """A field's value as text (a reference's display value)."""
    value = record.get(field, "")
    if isinstance(value, dict):
        return str(value.get("display_value") or "")
    return value if isinstance(value, str) else str(value)
