"""The CSM, FSM and ITSM systems answering the bridge's commands the way the real ones do.

- ``insert`` → the system creates the record (new sys_id, the table's number, the given fields,
  ``correlation_id`` = the command's) and emits an ``insert`` event with ``caused_by_command``;
- ``update`` → applies fields and journal, bumps ``sys_mod_count``, emits an ``update`` event
  with ``caused_by_command``, ``changed_fields`` and the journal entries;
- a ``command_id`` seen before has no second effect; a command to an unknown record, or one the
  system would reject, is answered by nothing. Everything received is recorded.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from bridgedev.simulate.command_model import InboundCommand
from bridgedev.simulate.lifecycles import create_record, track
from bridgedev.simulate.messages import SimMessage, message_of
from bridgedev.simulate.population_cases import OPEN_CASE_STATES
from bridgedev.simulate.recording import CommandRecorder, ReceivedCommand
from bridgedev.simulate.world import SimWorld
from connectors.catalog import is_case_table, lineage

#: The user the systems show as making changes for the bridge (its integration account).
BRIDGE_USER = "csm_fsm_bridge"


class Responders:
    """All three systems; ``handle`` takes a raw command from one system's command topic."""

    def __init__(self, world: SimWorld, recorder: CommandRecorder | None = None) -> None:
        self.world = world
        self.recorder = recorder if recorder is not None else CommandRecorder()
        self._seen: set[str] = set()

    def handle(self, system: str, raw: bytes) -> list[SimMessage]:
        """Apply one command received on ``system``'s command topic; returns the events to publish."""
        try:
            document = json.loads(raw)
        except ValueError:
            return self._done(system, None, "invalid", "not JSON")
        try:
            command = InboundCommand.model_validate(document)
        except ValidationError as error:
            reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            return self._done(system, document, "invalid", reason)
        if command.target != system:
            return self._done(system, document, "invalid", "target is another system")
        if command.command_id in self._seen:
            return self._done(system, document, "duplicate")
        if command.operation == "update" and not self._accepts(command):
            return self._done(system, document, "unknown_record")
        self._seen.add(command.command_id)
        event = self._insert(command) if command.operation == "insert" else self._update(command)
        if event is None:
            return self._done(system, document, "unchanged", sys_id=command.sys_id)
        outcome = "created" if command.operation == "insert" else "updated"
        return self._done(system, document, outcome, events=[event], sys_id=event["sys_id"])

    def _accepts(self, command: InboundCommand) -> bool:
        """The record exists and is of the command's table (or a table extending it)."""
        store = self.world.store
        return command.sys_id in store and command.table in lineage(store.table(command.sys_id))

    def _insert(self, command: InboundCommand) -> dict[str, Any]:
        world = self.world
        values = {**command.fields, "correlation_id": command.correlation_id}
        sys_id = world.ids.sys_id("command", command.command_id)
        journal = [(entry.element, entry.value) for entry in command.journal]
        event = create_record(
            world,
            command.table,
            values,
            by=BRIDGE_USER,
            sys_id=sys_id,
            caused_by_command=command.command_id,
            journal=journal,
        )
        if is_case_table(command.table):
            world.index.cases.append(sys_id)
            self._track_case(sys_id)
        return event

    def _update(self, command: InboundCommand) -> dict[str, Any] | None:
        journal = [(entry.element, entry.value) for entry in command.journal]
        event = self.world.events.update(
            command.sys_id, dict(command.fields), by=BRIDGE_USER, journal=journal, caused_by_command=command.command_id
        )
        track(self.world, command.sys_id)
        if is_case_table(command.table):
            self._track_case(command.sys_id)
        return event

    def _track_case(self, sys_id: str) -> None:
        if self.world.store.get(sys_id, "state") in OPEN_CASE_STATES:
            self.world.open_cases.add(sys_id)
        else:
            self.world.open_cases.discard(sys_id)

    def _done(
        self,
        system: str,
        command: Any,
        outcome: str,
        reason: str = "",
        *,
        events: list[dict[str, Any]] | None = None,
        sys_id: str = "",
    ) -> list[SimMessage]:
        events = events or []
        self.recorder.record(
            ReceivedCommand(
                system,
                outcome,
                reason,
                command if isinstance(command, dict) else None,
                tuple(e["event_id"] for e in events),
                sys_id,
            )
        )
        return [message_of(event, f"answer:{event['operation']}") for event in events]
