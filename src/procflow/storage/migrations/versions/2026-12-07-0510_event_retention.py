"""event retention: indexes by creation time for pruning, and the pruning schedule slot

Pruning deletes finished events and e-mail messages older than the retention, oldest
first, in small batches (`services.retention`); without these indexes each batch would
scan both tables. The `pruning` slot is the turn the workers claim, as they do the
reminders' turn.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 05:00:00.000000
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_event_created_at", "event", ["created_at"])
    op.create_index("ix_email_message_created_at", "email_message", ["created_at"])
    slot = sa.table(
        "schedule_slot",
        sa.column("name", sa.String),
        sa.column("due_at", sa.DateTime),
    )
    op.bulk_insert(slot, [{"name": "pruning", "due_at": datetime(2000, 1, 1)}])


def downgrade() -> None:
    op.execute("DELETE FROM schedule_slot WHERE name = 'pruning'")
    op.drop_index("ix_email_message_created_at", table_name="email_message")
    op.drop_index("ix_event_created_at", table_name="event")
