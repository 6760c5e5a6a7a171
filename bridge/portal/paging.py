"""The portal API's request parameters and its opaque pagination cursor."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

import msgspec
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bridge.visibility.queries import MAX_LIMIT, Cursor

_SYS_ID_PATTERN = r"^[0-9a-f]{32}$"
_SYS_ID = re.compile(_SYS_ID_PATTERN)
SysId = Annotated[str, StringConstraints(pattern=_SYS_ID_PATTERN)]


def is_sys_id(value: str) -> bool:
    """A path's record sys_id as the contract writes them (anything else exists nowhere)."""
    return _SYS_ID.fullmatch(value) is not None


class ListParams(BaseModel):
    """``?user=…&limit=…&cursor=…`` of the list endpoint."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True, frozen=True)

    user: SysId
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


class DetailParams(BaseModel):
    """``?user=…`` of the detail endpoint."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True, frozen=True)

    user: SysId


#: The longest cursor a page hands out: a number of up to 200 characters (UTF-8, a control
#: character escaped to 6 bytes), the sys_id and the brackets, base64-encoded. Longer is refused
#: unread.
MAX_CURSOR_LENGTH = 1700


class BadCursor(ValueError):
    pass


def encode_cursor(cursor: Cursor) -> str:
    raw = msgspec.json.encode((cursor.number, cursor.sys_id))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    """The cursor a previous page handed out; ``BadCursor`` for anything else."""
    if len(token) > MAX_CURSOR_LENGTH:
        raise BadCursor
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        # Decoded against its shape: a nested array where a string belongs is refused at its
        # first bracket, never descended into (``json.loads`` recursed until RecursionError).
        number, sys_id = msgspec.json.decode(raw, type=tuple[str, str])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise BadCursor from None
    # Only what a page could have handed out: a NUL, say, would reach PostgreSQL and fail there.
    if not (
        isinstance(number, str)
        and isinstance(sys_id, str)
        and len(number) <= 200
        and "\x00" not in number
        and _SYS_ID.fullmatch(sys_id)
    ):
        raise BadCursor
    return Cursor(number, sys_id)
