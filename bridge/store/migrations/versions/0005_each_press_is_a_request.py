"""processed_events: each action press is its own request (the press's event id joins the key)

An action carries the record's current ``sys_mod_count``, so two presses of the same button on
an unchanged case had the same key ``(sys_id, sys_mod_count, "action", action)`` and the second
was dropped as a duplicate (a second request for another catalog item, a second work order).
The key gains ``press_id``: the event id for an action, ``""`` for inserts, updates and deletes
(whose copies under a new event id stay duplicates). Stored actions get their own event id, so a
replay of one after the upgrade is still recognised.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_KEY = ["sys_id", "sys_mod_count", "operation", "action"]
NEW_KEY = [*OLD_KEY, "press_id"]


def upgrade() -> None:
    # SQLite rebuilds the table (batch mode), PostgreSQL alters it in place.
    with op.batch_alter_table("processed_events", recreate="auto") as batch:
        batch.add_column(sa.Column("press_id", sa.String(64), nullable=False, server_default=""))
        batch.drop_constraint("pk_processed_events", type_="primary")
        batch.create_primary_key("pk_processed_events", NEW_KEY)
    op.execute("UPDATE processed_events SET press_id = event_id WHERE operation = 'action'")


def downgrade() -> None:
    # Presses after the first on an unchanged record cannot share the old key: keep the first.
    op.execute(
        "DELETE FROM processed_events WHERE operation = 'action' AND EXISTS ("
        "SELECT 1 FROM processed_events AS earlier WHERE earlier.operation = 'action' "
        "AND earlier.sys_id = processed_events.sys_id "
        "AND earlier.sys_mod_count = processed_events.sys_mod_count "
        "AND earlier.action = processed_events.action "
        "AND earlier.press_id < processed_events.press_id)"
    )
    with op.batch_alter_table("processed_events", recreate="auto") as batch:
        batch.drop_constraint("pk_processed_events", type_="primary")
        batch.create_primary_key("pk_processed_events", OLD_KEY)
        batch.drop_column("press_id")
