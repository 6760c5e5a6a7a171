"""drop ix_processed_events_sys_id: the version key's unique index already leads with sys_id

Every processed event paid for a third random-key B-tree insert; lookups by sys_id (dedupe,
``bridge inspect``) use ``uq_processed_events_version`` and sort a record's few rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 03:50:00
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_processed_events_sys_id", table_name="processed_events")


def downgrade() -> None:
    op.create_index("ix_processed_events_sys_id", "processed_events", ["sys_id", "processed_at"], unique=False)
