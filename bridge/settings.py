"""Typed settings, read from the environment (prefix ``BRIDGE_``, nested with ``__``) or ``.env``."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bridge.redaction import mask_value
from bridge.shipped import default_mappings_dir

ENV_PREFIX = "BRIDGE_"
NESTED = "__"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class KafkaSettings(_Section):
    """How to reach the Kafka cluster."""

    bootstrap_servers: str = Field(default="127.0.0.1:9092", description="host:port[,host:port…]")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_SSL", "SASL_PLAINTEXT"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = Field(default=None, description="CA bundle that signs the brokers' certificates")
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    client_id: str = "csm-fsm-bridge"

    @field_validator("bootstrap_servers")
    @classmethod
    def _servers(cls, value: str) -> str:
        return _check_servers(value)

    @field_validator("ssl_cafile", "ssl_certfile", "ssl_keyfile")
    @classmethod
    def _files(cls, value: Path | None) -> Path | None:
        return _check_readable_file(value)

    @model_validator(mode="after")
    def _sasl_complete(self) -> "KafkaSettings":
        if self.security_protocol.startswith("SASL") and not (
            self.sasl_mechanism and self.sasl_username and self.sasl_password
        ):
            raise ValueError(
                "SASL needs BRIDGE_KAFKA__SASL_MECHANISM, BRIDGE_KAFKA__SASL_USERNAME and BRIDGE_KAFKA__SASL_PASSWORD"
            )
        return self


class TopicNames(_Section):
    """Topic names; the contract's defaults, renamable per deployment."""

    csm_events: str = "csm.events"
    fsm_events: str = "fsm.events"
    itsm_events: str = "itsm.events"
    csm_commands: str = "csm.commands"
    fsm_commands: str = "fsm.commands"
    itsm_commands: str = "itsm.commands"
    dead_letters: str = "bridge.dlq"

    @field_validator("*")
    @classmethod
    def _topic_name(cls, value: str) -> str:
        if not _TOPIC.fullmatch(value):
            raise ValueError("a Kafka topic name: 1-249 of letters, digits, '.', '_', '-'")
        return value

    def events(self) -> dict[str, str]:
        """Source system → event topic."""
        return {"csm": self.csm_events, "fsm": self.fsm_events, "itsm": self.itsm_events}

    def commands(self) -> dict[str, str]:
        """Target system → command topic."""
        return {"csm": self.csm_commands, "fsm": self.fsm_commands, "itsm": self.itsm_commands}


class ConsumerSettings(_Section):
    group_id: str = "csm-fsm-bridge"
    max_records: int = Field(default=500, ge=1, le=10_000, description="events per batch at most")
    poll_timeout_ms: int = Field(
        default=1000,
        ge=1,
        le=60_000,
        description="how long a poll waits when no event is there (it returns as soon as one "
        "arrives): an idle bridge wakes up this often",
    )
    commit_interval_ms: int = Field(
        default=200,
        ge=0,
        le=60_000,
        description="offsets of settled batches are committed at most this often (0: every "
        "batch), and at once when partitions are revoked or the bridge stops",
    )
    fetch_max_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="the most a fetch may bring back, all partitions together (bounds memory)",
    )
    max_poll_interval_ms: int = Field(default=300_000, ge=1)
    session_timeout_ms: int = Field(default=10_000, ge=1)


class StoreSettings(_Section):
    url: str = Field(
        default="sqlite+aiosqlite:///bridge.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://…",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_store_url(value)

    busy_timeout_ms: int = Field(default=10_000, ge=0)
    wal_checkpoint_interval_ms: int = Field(
        default=500,
        ge=0,
        description="SQLite only: a worker thread checkpoints the write-ahead log at the end "
        "of a batch, at most this often; 0 leaves checkpoints to SQLite, inside "
        "the bridge's commits",
    )
    portal_role: str = Field(
        default="bridge_portal",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL only: the role the portal's queries run as (row-level security)",
    )


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    portal_token: SecretStr = Field(
        default=SecretStr(""), description="bearer token the portal must send; empty disables the portal API"
    )


class RetrySettings(_Section):
    """Backoff for transient errors (store locked or down, broker unavailable), and when a batch
    that keeps failing is taken apart."""

    initial_delay_s: float = Field(default=0.2, gt=0)
    max_delay_s: float = Field(default=10.0, gt=0)
    budget_s: float = Field(default=60.0, ge=0, description="retry inside one poll for at most this long")
    isolate_after: int = Field(
        default=3,
        ge=1,
        description="after this many unexpected (non-transient) failures of a batch in "
        "a row, its events are retried one at a time and any that still "
        "fails is dead-lettered",
    )


class TracingSettings(_Section):
    """OpenTelemetry traces: a span per batch and per event, continued by the commands and dead
    letters an event causes (W3C ``traceparent`` in their headers)."""

    enabled: bool = Field(default=False, description="make spans and export them")
    exporter: Literal["otlp", "console"] = Field(
        default="otlp", description="otlp: OTLP over HTTP; console: spans as JSON on stdout"
    )
    otlp_endpoint: str = Field(
        default="",
        description="OTLP/HTTP traces URL (http://collector:4318/v1/traces); empty: "
        "the exporter's own default or OTEL_EXPORTER_OTLP_*_ENDPOINT",
    )
    sample_ratio: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="share of new traces recorded; an event's sampled parent is always followed",
    )


class ProbeSettings(_Section):
    """When the bridge says it cannot make progress (``/health``, ``/ready``, ``bridge status``),
    and how long ``bridge run`` waits for the broker and the store before it gives up."""

    startup_deadline_s: float = Field(
        default=60.0, gt=0, description="`bridge run` retries the broker and the store this long, then exits non-zero"
    )
    loop_blocked_s: float = Field(default=10.0, gt=0, description="/health fails when the event loop is blocked longer")
    stall_after_s: float = Field(
        default=120.0, gt=0, description="/ready fails when a partition with lag has not moved this long"
    )
    store_failing_s: float = Field(
        default=30.0, gt=0, description="/ready fails when no store write succeeded this long since one failed"
    )


class RetentionSettings(_Section):
    """How long the store keeps what only history needs; pruned by the bridge in small steps
    and by ``bridge db prune`` (see ``bridge.store.retention`` for why each window is safe)."""

    enabled: bool = Field(default=True, description="prune inside the running bridge")
    processed_events_days: float = Field(
        default=14, gt=0, description="dedupe keys of changes (older ones: the stale guard)"
    )
    action_keys_days: float = Field(
        default=30,
        gt=0,
        description="dedupe keys of actions (never stale): keep them longer than the event topics' retention.ms",
    )
    sent_commands_days: float = Field(default=7, gt=0, description="sent command rows")
    pending_inserts_days: float = Field(
        default=90,
        gt=0,
        description="sent insert commands (a correlation id): the target's insert event finds its case through them",
    )
    dead_letters_days: float = Field(default=30, gt=0, description="retried dead letters")
    routing_log_days: float = Field(
        default=180,
        gt=0,
        description="note-routing decisions (bridge explain; a late child of a major case gets the notes still logged)",
    )
    step_rows: int = Field(default=500, ge=1, le=50_000, description="rows per delete step")
    step_pause_ms: int = Field(default=50, ge=0, description="pause between two steps")
    interval_s: float = Field(default=600, gt=0, description="a pass starts this often")


class Settings(BaseSettings):
    """The bridge's effective configuration."""

    model_config = SettingsConfigDict(
        env_prefix="BRIDGE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        hide_input_in_errors=True,
    )

    kafka: KafkaSettings = KafkaSettings()
    topics: TopicNames = TopicNames()
    consumer: ConsumerSettings = ConsumerSettings()
    store: StoreSettings = StoreSettings()
    http: HttpSettings = HttpSettings()
    retry: RetrySettings = RetrySettings()
    tracing: TracingSettings = TracingSettings()
    probes: ProbeSettings = ProbeSettings()
    retention: RetentionSettings = RetentionSettings()
    mappings_dir: Path = Field(
        default_factory=default_mappings_dir,
        description="folder of the mapping YAML (default: ./mappings if present, else the shipped set)",
    )
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    instance_id: str = Field(default="", description="name of this instance in logs and metrics")

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        return _check_log_level(value)

    def masked(self) -> dict[str, Any]:
        """The settings as they may be shown (``config show``): secrets and the passwords
        inside URLs masked."""
        shown = mask_value("", self.model_dump(mode="json"))
        assert isinstance(shown, dict)
        return shown


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


# --- Validation of values (each error names what is allowed) -------------------------------

STORE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
_SERVER = re.compile(r"^(?:[A-Za-z][\w+.-]*://)?(?:[^\s@/]+@)?(?:\[[0-9A-Fa-f:.]+\]|[\w.-]+)(?::\d{1,5})?$")


def _check_store_url(value: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    expected = (
        "expected sqlite+aiosqlite:///FILE or postgresql+asyncpg://HOST[:PORT]/DATABASE "
        "(user and password before the host)"
    )
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise ValueError(f"not a URL; {expected}") from None
    if url.drivername not in STORE_DRIVERS:
        raise ValueError(f"unsupported driver '{url.drivername}'; {expected}")
    if not url.database:
        raise ValueError(f"no database named; {expected}")
    return value


def _check_servers(value: str) -> str:
    servers = [part.strip() for part in value.split(",")]
    bad = [server for server in servers if not _SERVER.match(server)]
    if bad or not value.strip():
        raise ValueError("expected host[:port][,host[:port]…]")
    return ",".join(servers)


def _check_readable_file(value: Path | None) -> Path | None:
    if value is not None and not value.is_file():
        raise ValueError(f"no such file: {value}")
    return value


def _check_log_level(value: str) -> str:
    if value.upper() not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
    return value.upper()


def env_name(loc: tuple[str | int, ...]) -> str:
    """The environment variable of a setting: ``("store", "url")`` → ``BRIDGE_STORE__URL``."""
    return ENV_PREFIX + NESTED.join(str(part).upper() for part in loc)


def settings_problems(error: ValidationError) -> list[str]:
    """One line per invalid setting: its variable, what is wrong, what is allowed (never the
    value given: it may be a secret)."""
    lines = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            name = env_name(loc)
            hint = suggestion(name, setting_names())
            message = "no such setting" + (f"; did you mean {hint}?" if hint else "")
        elif item["type"] == "literal_error":
            message = f"expected one of {item.get('ctx', {}).get('expected', '')}"
        lines.append(f"{env_name(loc)}: {message}")
    return lines


# --- Unknown variables ------------------------------------------------------------------------

#: Variables with the prefix that the bridge reads outside the settings.
OTHER_VARIABLES = frozenset({"BRIDGE_KAFKA_CACHE"})
#: Prefixes of variables that configure the crash tests' failpoints, the test suite and tools,
#: not the bridge.
OTHER_PREFIXES = ("BRIDGE_FAILPOINT", "BRIDGE_TEST_", "BRIDGE_FAULT_")


@dataclass(frozen=True, slots=True)
class UnknownVariable:
    """A ``BRIDGE_*`` variable that sets nothing (the bridge ignores it)."""

    name: str
    source: str  # "environment" or the .env file's path
    suggestion: str  # the setting it probably meant, or ""

    def describe(self) -> str:
        hint = f"; did you mean {self.suggestion}?" if self.suggestion else ""
        return f"{self.name} (from {self.source}) is not a setting and is ignored{hint}"


def setting_names() -> list[str]:
    """Every variable that sets something: ``BRIDGE_STORE__URL``, and a section as a whole
    (``BRIDGE_STORE``, a JSON object)."""
    names = []
    for name, info in Settings.model_fields.items():
        names.append(env_name((name,)))
        section = info.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            names += [env_name((name, inner)) for inner in section.model_fields]
    return names


def suggestion(name: str, known: list[str]) -> str:
    # Compared without separators: BRIDGE_STORE_URL and BRIDGE_STORE__URL differ by one '_',
    # BRIDGE_MAPPING_DIR and BRIDGE_MAPPINGS_DIR by one letter.
    def squeeze(text: str) -> str:
        return text.upper().removeprefix(ENV_PREFIX).replace("_", "")

    by_squeezed = {squeeze(k): k for k in known}
    close = difflib.get_close_matches(squeeze(name), list(by_squeezed), n=1, cutoff=0.8)
    return by_squeezed[close[0]] if close else ""


def unknown_variables(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> list[UnknownVariable]:
    """``BRIDGE_*`` variables of the environment and of ``.env`` that set nothing.

    Nested names under a real section (``BRIDGE_STORE__URLL``) are not listed: the settings
    refuse those themselves (each section forbids unknown keys).
    """
    environ = os.environ if environ is None else environ
    sources: list[tuple[str, list[str]]] = [("environment", list(environ))]
    if env_file is not None and env_file.is_file():
        from dotenv import dotenv_values

        sources.append((str(env_file), list(dotenv_values(env_file))))
    known = setting_names()
    known_upper = set(known)
    sections = {name + NESTED for name in known if NESTED not in name}
    found = []
    for source, names in sources:
        for raw in names:
            name = raw.upper()
            if (
                not name.startswith(ENV_PREFIX)
                or name in known_upper
                or name in OTHER_VARIABLES
                or name.startswith(OTHER_PREFIXES)
                or name.startswith(tuple(sections))
            ):
                continue
            found.append(UnknownVariable(raw, source, suggestion(name, known)))
    return found
