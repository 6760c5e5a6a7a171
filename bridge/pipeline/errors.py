"""Which failures are waited out, and which are the bridge's own fault.

A transient failure (store locked or down, broker unavailable) says nothing about the event:
the batch is retried as it is. Any other exception is unexpected, a bug or a broken
environment: inside one event's flows it dead-letters that event only (kept for ``dlq retry``
after the fix); anywhere else it fails the batch, which is rewound and fetched again, never
skipped.
"""

from __future__ import annotations

import asyncio
import traceback
from pathlib import PurePath

from aiokafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

TRANSIENT = (OperationalError, IntegrityError, DBAPIError, KafkaError, ConnectionError,
             asyncio.TimeoutError, OSError)

#: the reason code of an event whose flows raised an unexpected exception
INTERNAL_ERROR = "internal_error"


def raised_at(error: BaseException) -> str:
    """``file:line in function`` of the innermost frame: where to look, without the message
    (an exception's message may quote the payload, which never goes into a log)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{'/'.join(PurePath(frame.filename).parts[-2:])}:{frame.lineno} in {frame.name}"
