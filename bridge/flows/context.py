"""What a flow sees while it handles one event, and what it decided.

A flow reads the event and the batch's unit of work, keeps links through it, and returns its
commands by :meth:`FlowContext.emit`: each command with the rule that decided it. It builds no
Kafka message and writes no outbox row; the pipeline turns the decided commands into outbox
rows (topic, headers, mapping version) once the event's flows have all succeeded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Mapping

from bridge.flows.errors import FlowDataError
from bridge.mapping import MappingSet
from bridge.store.unit_of_work import BatchState, StoredRecord
from connectors.common import CausedBy, Command, Event, deterministic_command_id
from connectors.csm import commands as csm_commands


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
    #: the newest state of the record the bridge knows, this event applied (an action's copy
    #: of the record may be older than an update already applied: a retry, a replay)
    current: StoredRecord | None = None
    outcome: str = "applied"
    detail: str | None = None
    #: the commands decided for this event, in order
    decided: list[Decided] = field(default_factory=list)

    @property
    def record(self) -> Mapping[str, Any]:
        """The record to act on: its newest known state (contract-shaped)."""
        return self.current.data if self.current is not None else self.event.record_dict()

    @property
    def is_echo(self) -> bool:
        """The change was made for one of our own commands: it must not cause another."""
        return self.event.caused_by_command is not None

    @property
    def caused_by(self) -> CausedBy:
        """The event as the cause of the commands it decides."""
        return self.event.as_cause()

    def command_id(self, rule: str, *parts: str) -> str:
        """Deterministic: the same cause and rule give the same id, on any replay or instance;
        each press of an action its own."""
        e = self.event
        press = (e.event_id,) if e.operation == "action" else ()
        salt = (self.state.reprocess_salt,) if self.state.reprocess_salt else ()
        return deterministic_command_id(
            e.source, e.sys_id, str(e.sys_mod_count), e.operation, *press, rule, *parts, *salt
        )

    def correlation_id(self, relation: str) -> str:
        """The correlation id of the insert an action asks for,
        ``case:<sys_id>:<relation>:<sys_mod_count>:<press>``: the same for every copy of one
        press, another for the next press on the unchanged case (``press`` digests the event
        id, so the id stays short: ServiceNow's ``correlation_id`` holds 100 characters)."""
        e = self.event
        press = hashlib.sha256(e.event_id.encode()).hexdigest()[:12]
        return f"case:{e.sys_id}:{relation}:{e.sys_mod_count}:{press}"

    def emit(self, command: Command, *, rule: str) -> None:
        """Decide on a command (the pipeline writes it to the outbox with the batch)."""
        self.decided.append(Decided(command, rule))

    def note(
        self,
        case_table: str,
        case_sys_id: str,
        key: str,
        values: Mapping[str, Any],
        *,
        rule: str,
        id_parts: tuple[str, ...] = (),
    ) -> bool:
        """Write a templated note on a case; False when the mappings disable that note."""
        rendered = self.mappings.render_note(key, values)
        if rendered is None:
            return False
        self.emit(
            csm_commands.work_note(
                case_table,
                case_sys_id,
                rendered.text,
                element=rendered.element,
                command_id=self.command_id(rule, case_sys_id, key, *id_parts),
                caused_by=self.caused_by,
            ),
            rule=rule,
        )
        return True

    def filtered(self, outcome: str, detail: str) -> None:
        """The event needs nothing from us: say why (visible in `inspect`)."""
        self.outcome, self.detail = outcome, detail

    def reject(self, reason_code: str, detail: str) -> None:
        raise FlowDataError(reason_code, detail)

    def changed(self, field: str) -> bool:
        """Whether this event changed ``field`` (an insert sets every field)."""
        return self.event.operation == "insert" or field in self.event.changed_fields


def press_id(event: Event) -> str:
    """An action is a request: each press has its own id, its event id (a redelivered copy has
    the same). A change has none (``""``): its copies share its version."""
    return event.event_id if event.operation == "action" else ""
