"""What a batch changed, handed to the hooks that maintain derived indexes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping


@dataclass(frozen=True, slots=True)
class RecordChange:
    """A record's state before and after one applied event (contract-shaped dicts).

    ``before`` is None for a record the store had not seen; ``after`` is None when the record
    was deleted. Hooks run inside the batch's transaction.
    """

    source: str
    table: str
    sys_id: str
    operation: Literal["insert", "update", "delete"]
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
