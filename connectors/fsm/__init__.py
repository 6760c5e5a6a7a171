"""FSM: record models per table (`records`) and command builders (`commands`)."""

from connectors.fsm import commands
from connectors.fsm.records import RECORD_MODELS

__all__ = ["RECORD_MODELS", "commands"]
