"""Every table of the store on its one ``metadata``: the core's and the modules' own.

Import ``metadata`` from here where all of them must be known (the migrations compare and
build the whole schema); each module declares its tables in its own ``schema`` module, which
only needs ``bridge.store.metadata``.
"""

from __future__ import annotations

from bridge.store import schema as core_schema
from bridge.store.metadata import metadata
from bridge.visibility import schema as visibility_schema

__all__ = ["core_schema", "metadata", "visibility_schema"]
