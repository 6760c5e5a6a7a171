"""ITSM: record models per table (`records`) and command builders (`commands`)."""

from connectors.itsm import commands
from connectors.itsm.records import RECORD_MODELS

__all__ = ["RECORD_MODELS", "commands"]
