"""Commands to ITSM (`itsm.commands`): create incidents/problems/changes/requests, add notes."""

from __future__ import annotations

from connectors.common.builders import CommandBuilder

_ITSM = CommandBuilder("itsm")

insert = _ITSM.insert
update = _ITSM.update
note = _ITSM.note

__all__ = ["insert", "note", "update"]
