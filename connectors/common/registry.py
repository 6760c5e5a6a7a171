"""Which record Struct describes which table: each system package owns its tables' Structs."""

from __future__ import annotations

from functools import cache

import msgspec


@cache
def record_models() -> dict[str, type[msgspec.Struct]]:
    """Table name → record Struct, for every table of every system."""
    # Imported here, not at module level: the system packages import connectors.common.
    from connectors.csm.records import RECORD_MODELS as CSM
    from connectors.fsm.records import RECORD_MODELS as FSM
    from connectors.itsm.records import RECORD_MODELS as ITSM

    return {**CSM, **FSM, **ITSM}


def record_model(table: str) -> type[msgspec.Struct]:
    """The record Struct of a catalog table; `KeyError` for a table outside the contract."""
    return record_models()[table]
