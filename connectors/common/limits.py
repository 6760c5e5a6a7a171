"""The widths the store's columns are sized from: a value beyond them is refused at decode."""

from __future__ import annotations

from typing import Final

#: The longest event id and record number accepted. Ids are UUIDs in the contract; ServiceNow's
#: `number` fields hold at most 40 characters.
MAX_EVENT_ID: Final = 64
MAX_NUMBER: Final = 40
#: ServiceNow's sys_mod_count is a 32-bit integer, and so are the store's columns.
MAX_MOD_COUNT: Final = 2**31 - 1
#: The deepest nesting of objects and arrays accepted (the envelope is level 1, its record 2, a
#: reference 3). Deeper documents are refused at decode whatever the caller's stack: the
#: parsers' own limit (a ``RecursionError``) depends on how deep the stack already is.
MAX_NESTING: Final = 32
