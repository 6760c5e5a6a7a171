"""CSM: record models per table (`records`) and command builders (`commands`)."""

from connectors.csm import commands
from connectors.csm.records import RECORD_MODELS

__all__ = ["RECORD_MODELS", "commands"]
