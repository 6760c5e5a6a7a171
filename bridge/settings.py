"""Typed settings, read from the environment (prefix ``BRIDGE_``, nested with ``__``) or ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    @model_validator(mode="after")
    def _sasl_complete(self) -> "KafkaSettings":
        if self.security_protocol.startswith("SASL") and not (
            self.sasl_mechanism and self.sasl_username and self.sasl_password
        ):
            raise ValueError("SASL needs sasl_mechanism, sasl_username and sasl_password")
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
        default=1000, ge=1, le=60_000,
        description="how long a poll waits when no event is there (it returns as soon as one "
                    "arrives): an idle bridge wakes up this often")
    commit_interval_ms: int = Field(
        default=200, ge=0, le=60_000,
        description="offsets of settled batches are committed at most this often (0: every "
                    "batch), and at once when partitions are revoked or the bridge stops")
    fetch_max_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024,
        description="the most a fetch may bring back, all partitions together (bounds memory)")
    max_poll_interval_ms: int = 300_000
    session_timeout_ms: int = 10_000


class StoreSettings(_Section):
    url: str = Field(
        default="sqlite+aiosqlite:///bridge.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://…",
    )
    busy_timeout_ms: int = 10_000
    wal_checkpoint_interval_ms: int = Field(
        default=500, ge=0,
        description="SQLite only: a worker thread checkpoints the write-ahead log at the end "
                    "of a batch, at most this often; 0 leaves checkpoints to SQLite, inside "
                    "the bridge's commits",
    )
    portal_role: str = Field(
        default="bridge_portal",
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

    initial_delay_s: float = 0.2
    max_delay_s: float = 10.0
    budget_s: float = Field(default=60.0, description="retry inside one poll for at most this long")
    isolate_after: int = Field(
        default=3, ge=1, description="after this many unexpected (non-transient) failures of a batch in "
                             "a row, its events are retried one at a time and any that still "
                             "fails is dead-lettered")


class RetentionSettings(_Section):
    """How long the store keeps what only history needs; pruned by the bridge in small steps
    and by ``bridge db prune`` (see ``bridge.store.retention`` for why each window is safe)."""

    enabled: bool = Field(default=True, description="prune inside the running bridge")
    processed_events_days: float = Field(
        default=14, gt=0, description="dedupe keys of changes (older ones: the stale guard)")
    action_keys_days: float = Field(
        default=30, gt=0, description="dedupe keys of actions (never stale): keep them "
                                      "longer than the event topics' retention.ms")
    sent_commands_days: float = Field(default=7, gt=0, description="sent command rows")
    pending_inserts_days: float = Field(
        default=90, gt=0, description="sent insert commands (a correlation id): the target's "
                                      "insert event finds its case through them")
    dead_letters_days: float = Field(default=30, gt=0, description="retried dead letters")
    routing_log_days: float = Field(
        default=180, gt=0, description="note-routing decisions (bridge explain; a late child "
                                       "of a major case gets the notes still logged)")
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
    retention: RetentionSettings = RetentionSettings()
    mappings_dir: Path = Field(default=Path("mappings"), description="folder of the mapping YAML")
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    instance_id: str = Field(default="", description="name of this instance in logs and metrics")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
