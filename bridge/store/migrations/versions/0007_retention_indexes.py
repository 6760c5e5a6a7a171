"""retention: indexes to prune processed events and the routing log by age

``ix_processed_events_age`` (action, processed_at), on PostgreSQL only: the dedupe keys of
changes ("") and of actions are pruned on windows of their own, oldest first, a few hundred at
a time. Rows arrive in time order, so an insert lands at the right edge of its action's range.
SQLite reads the table in rowid order instead (insertion order), and saves the index's cost on
every event.
``ix_links_routing_age`` (created_at), partial on the ``note_routing`` links only: no other
link pays for it. The outbox (``ix_outbox_unsent``: sent_at) and the dead letters (created_at)
are already indexed by age.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ROUTING_LOG_WHERE = "kind = 'note_routing'"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_processed_events_age", "processed_events", ["action", "processed_at"], unique=False)
    op.create_index(
        "ix_links_routing_age",
        "links",
        ["created_at"],
        unique=False,
        sqlite_where=sa.text(ROUTING_LOG_WHERE),
        postgresql_where=sa.text(ROUTING_LOG_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_links_routing_age", table_name="links")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_processed_events_age", table_name="processed_events")
