"""Commands to FSM (`fsm.commands`): insert/update work orders and tasks, append work notes."""

from __future__ import annotations

from connectors.common.builders import CommandBuilder

_FSM = CommandBuilder("fsm")

insert = _FSM.insert
update = _FSM.update
note = _FSM.note

__all__ = ["insert", "note", "update"]
