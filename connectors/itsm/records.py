"""ITSM record Structs, one per contract table, generated from `connectors.catalog`.

Each validates a record's dict (`connectors.common.records.check_record`) and is its JSON Schema.
"""

from __future__ import annotations

from typing import Final

import msgspec

from connectors.common.records import record_structs

#: Table name → record Struct for every ITSM table.
RECORD_MODELS: Final[dict[str, type[msgspec.Struct]]] = record_structs("itsm", __name__)
