"""Errors a flow raises for input it cannot act on: the event goes to the dead-letter topic."""

from __future__ import annotations


class FlowDataError(ValueError):
    """The event is well-formed but cannot be applied (e.g. an unresolved reference)."""

    def __init__(self, reason_code: str, detail: str) -> None:
        super().__init__(f"{reason_code}: {detail}")
        self.reason_code = reason_code
        self.detail = detail
