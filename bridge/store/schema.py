"""The store's core tables (SQLAlchemy Core), on the one ``metadata`` (``bridge.store.metadata``).

Modules with tables of their own (the visibility index) declare them on that ``metadata`` in
their own ``schema`` module; ``bridge.tables`` imports them all (the migrations, for instance).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from bridge.store.metadata import EVENT_ID, ONLY_ON, SYS_ID, metadata
from connectors.common.limits import MAX_NUMBER

#: The kind of ``links`` row that holds a note-routing decision (``bridge.flows.routing_log``).
ROUTING_LOG_KIND = "note_routing"
ROUTING_LOG_WHERE = f"kind = '{ROUTING_LOG_KIND}'"

#: The latest known state of every record the bridge has seen, in the contract's shape.
records = Table(
    "records",
    metadata,
    Column("sys_id", SYS_ID, primary_key=True),
    Column("source", String(8), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("number", String(MAX_NUMBER), nullable=True, index=True),
    Column("sys_mod_count", Integer, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("data", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: Typed edges between records: case→work order, work order→task, case→incident, major→child…
links = Table(
    "links",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("from_id", SYS_ID, primary_key=True),
    Column("to_id", SYS_ID, primary_key=True),
    Column("attrs", JSON, nullable=False, default=dict),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_links_to", "to_id", "kind"),
    # The primary key leads with `kind`; lookups by one endpoint need their own indexes.
    Index("ix_links_from", "from_id", "kind"),
    # Retention prunes the routing log (``note_routing`` links) by age; partial, so that no
    # other link pays for it.
    Index(
        "ix_links_routing_age",
        "created_at",
        sqlite_where=text(ROUTING_LOG_WHERE),
        postgresql_where=text(ROUTING_LOG_WHERE),
    ),
)

#: One row per distinct input event: the dedupe key and what became of it.
processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", EVENT_ID, nullable=False),
    Column("source", String(8), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("sys_id", SYS_ID, nullable=False),
    Column("sys_mod_count", Integer, nullable=False),
    Column("operation", String(8), nullable=False),
    Column("action", String(32), nullable=False, default=""),  # "" unless an action
    # An action changes nothing and carries the record's current count: two presses on an
    # unchanged record share (sys_id, sys_mod_count, "action", action) and differ by event id.
    # Each press is a request of its own, so its event id is part of its key; "" otherwise.
    Column("press_id", EVENT_ID, nullable=False, default=""),
    Column("outcome", String(24), nullable=False),
    Column("detail", Text, nullable=True),
    Column("mapping_version", String(64), nullable=True),
    Column("topic", String(255), nullable=True),
    Column("partition", Integer, nullable=True),
    Column("offset", BigInteger, nullable=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
    # The version is the dedupe key: a redelivered copy has the same event id and version, a
    # republished one a new id and the same version. An action is a request, not a version:
    # its key adds the action and the press (its event id), so a redelivered press is caught
    # and a second press is not. The event id is kept, not indexed (an index on it cost a
    # random B-tree write per event and caught nothing the key misses). Leading with sys_id,
    # the key also serves every lookup by record.
    PrimaryKeyConstraint("sys_id", "sys_mod_count", "operation", "action", "press_id"),
    # Retention prunes by age, changes ("") and actions on windows of their own. PostgreSQL
    # only: SQLite finds the oldest rows in rowid order (``bridge.store.retention``), and an
    # index here cost its batch path a tenth of its CPU. Rows come in time order: each insert
    # lands at the right edge of its action's range.
    Index("ix_processed_events_age", "action", "processed_at", info={ONLY_ON: ("postgresql",)}).ddl_if(
        dialect="postgresql"
    ),
)

#: Everything the bridge publishes (commands and dead letters), written in the same transaction
#: as the state it reflects and published after commit (transactional outbox).
outbox = Table(
    "outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # "command" | "dead_letter"
    Column("topic", String(255), nullable=False),
    Column("msg_key", String(255), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False, default=dict),
    Column("target", String(8), nullable=True),
    Column("target_table", String(64), nullable=True),
    Column("target_sys_id", String(64), nullable=True),
    Column("correlation_id", String(128), nullable=True, index=True),
    Column("cause_event_id", EVENT_ID, nullable=True),
    Column("cause_sys_id", String(64), nullable=True, index=True),
    Column("rule", String(64), nullable=True),
    Column("mapping_version", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Index("ix_outbox_unsent", "sent_at", "seq"),
)

#: Input that could not be processed: kept with its context until retried or purged.
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("source_topic", String(255), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("stage", String(16), nullable=False),  # decode | map | flow | batch
    Column("reason_code", String(48), nullable=False, index=True),
    Column("error_class", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("event_id", EVENT_ID, nullable=True),
    Column("sys_id", String(64), nullable=True, index=True),
    Column("payload", LargeBinary, nullable=False),
    Column("mapping_version", String(64), nullable=True),
    Column("replay_count", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False, default="new"),  # new | retried | quarantined
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

#: Monotonic counters (events by outcome…), added to once per batch; survive restarts.
counters = Table(
    "counters",
    metadata,
    Column("name", String(96), primary_key=True),
    Column("value", BigInteger, nullable=False, default=0),
)
