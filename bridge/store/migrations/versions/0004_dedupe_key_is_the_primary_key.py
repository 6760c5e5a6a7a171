"""processed_events: the version key becomes the primary key; event_id is no longer indexed

Every processed event paid for two random-key B-tree inserts, one per unique key. The version
key ``(sys_id, sys_mod_count, operation, action)`` already catches every copy of an event
(a redelivery has the same event id *and* the same version, a republished copy a new id and the
same version), so the event-id index only cost writes: on a store of a million processed events
it was a third of the pages a batch writes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 00:30:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

VERSION_KEY = ["sys_id", "sys_mod_count", "operation", "action"]


def upgrade() -> None:
    # SQLite rebuilds the table (batch mode), PostgreSQL alters it in place.
    with op.batch_alter_table("processed_events", recreate="auto") as batch:
        batch.drop_constraint("uq_processed_events_version", type_="unique")
        batch.drop_constraint("pk_processed_events", type_="primary")
        batch.create_primary_key("pk_processed_events", VERSION_KEY)


def downgrade() -> None:
    with op.batch_alter_table("processed_events", recreate="auto") as batch:
        batch.drop_constraint("pk_processed_events", type_="primary")
        batch.create_primary_key("pk_processed_events", ["event_id"])
        batch.create_unique_constraint("uq_processed_events_version", VERSION_KEY)
