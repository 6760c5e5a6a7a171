"""Structured logs: JSON when not on a terminal, readable on one; no payloads or personal data.

Log events name what happened and carry ids (event id, sys_id, table, outcome, mapping
version). Everything that logs — our structlog loggers, FastStream, aiokafka, uvicorn through
stdlib ``logging`` — goes through the same processors, so one redaction rule covers all:

* a field whose name says secret (password, token, key…) is masked;
* strings in any other field (and the message itself) have passwords inside URLs and DSNs
  masked (``bridge.redaction``, the rule ``config show`` and the CLI's errors use too), and
  e-mail addresses and phone numbers — except id-like fields that our code fills and that
  never hold input text;
* an exception is logged as its class and where it was raised, never its message or a
  traceback with locals: messages of validation errors can quote the input.
"""

from __future__ import annotations

import logging
import re
import sys

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from bridge.redaction import is_secret_name, mask_secrets

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# A phone number: an international "+digits" form, or digit groups joined by spaces, dashes or
# parentheses (7+ digits). Dotted numbers (versions, IPs, topic suffixes) and bare ids are not.
_PHONE = re.compile(r"\+\d[\d ()-]{6,}\d|\(?\b\d{2,5}\)?(?:[ -]\(?\d{2,5}\)?){2,}\b")
#: Fields our code fills with identifiers, positions and versions (never free text).
ID_FIELDS = frozenset(
    {
        "level",
        "logger",
        "timestamp",
        "event_id",
        "sys_id",
        "message_id",
        "dead_letter_id",
        "cause_event_id",
        "topic",
        "partition",
        "offset",
        "mapping_version",
        "content_hash",
        "version",
        "previous_version",
        "previous_hash",
        "active_version",
        "active_hash",
        "group_id",
        "error_class",
        "error_at",
        "msg_key",
    }
)

NOISY_OR_DATA_LOGGERS = ("aiokafka", "aiosqlite", "sqlalchemy", "asyncpg", "uvicorn")


def _mask(text: str) -> str:
    # Credentials first: ``user:password@host`` would otherwise read as an e-mail address.
    return _PHONE.sub("<phone>", _EMAIL.sub("<email>", mask_secrets(text)))


def redact(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Mask secrets by field name and e-mails/phones in free text."""
    for key, value in list(event.items()):
        if key in ID_FIELDS:
            continue
        if key != "event" and is_secret_name(key):
            event[key] = "***"
        elif isinstance(value, str):
            event[key] = _mask(value)
        elif isinstance(value, (list, tuple)):
            event[key] = [_mask(v) if isinstance(v, str) else v for v in value]
    return event


def summarize_exception(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Replace ``exc_info`` by the error's class and the place it was raised (no message)."""
    exc_info = event.pop("exc_info", None)
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if isinstance(exc_info, tuple) and exc_info[0] is not None:
        event.setdefault("error_class", exc_info[0].__name__)
        tb = exc_info[2]
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is not None:
            code = tb.tb_frame.f_code
            event["error_at"] = f"{code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno} {code.co_name}"
    event.pop("stack_info", None)
    return event


def _renderer(fmt: str) -> Processor:
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    return structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()


def configure_logging(fmt: str = "auto", level: str = "INFO") -> None:
    """Configure structlog and the stdlib root logger (FastStream, aiokafka, uvicorn) alike."""
    numeric_level = logging.getLevelName(level.upper())
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        summarize_exception,
        redact,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, _renderer(fmt)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder(), *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _renderer(fmt)],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)
    # Libraries log at DEBUG what they handle — SQL parameters, i.e. payloads (aiosqlite,
    # SQLAlchemy) — and aiokafka logs every group change at INFO: warnings and worse only,
    # whatever the bridge's own level.
    for name in NOISY_OR_DATA_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric_level, logging.WARNING))


def faststream_logger() -> logging.Logger:
    """The logger to give FastStream (broker and app) so that its lines go through ours."""
    return logging.getLogger("bridge.faststream")
