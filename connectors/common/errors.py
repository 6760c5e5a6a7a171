"""Why an inbound message was rejected, in a form that is safe to log and to put in DLQ headers."""

from __future__ import annotations

from typing import Final, Literal

ReasonCode = Literal[
    "invalid_json",
    "invalid_utf8",
    "not_an_object",
    "missing_field",
    "wrong_type",
    "invalid_sys_id",
    "invalid_reference",
    "unknown_source",
    "source_mismatch",
    "unknown_table",
    "unknown_operation",
    "unknown_action",
    "invalid_action_args",
    "invalid_value",
    "duplicate_key",
    "key_mismatch",
]

#: Every reason code of a message refused at the door (the DLQ header `x-bridge-reason`):
#: `decode_event`'s, and `key_mismatch`, which the pipeline reports from the Kafka key.
REASON_CODES: Final[frozenset[str]] = frozenset(ReasonCode.__args__)  # type: ignore[attr-defined]


class DecodeError(ValueError):
    """An event that does not follow the contract; it cannot be processed, only dead-lettered.

    `reason_code` is one of `REASON_CODES`. `detail` names the offending field path and what
    was expected. Neither ever contains a value taken from the input (no PII in logs or DLQ
    headers), and the error is raised without a chained cause for the same reason.
    """

    def __init__(self, reason_code: ReasonCode, detail: str) -> None:
        if reason_code not in REASON_CODES:
            raise ValueError(f"unknown reason code {reason_code!r}")
        super().__init__(f"{reason_code}: {detail}")
        self.reason_code: ReasonCode = reason_code
        self.detail = detail

    def __reduce__(self) -> tuple[type[DecodeError], tuple[str, str]]:
        return (type(self), (self.reason_code, self.detail))
