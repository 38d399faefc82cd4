"""e-mail: messages from outbox events, members' opt-outs, reminders, the schedule slot

Events already in the outbox are marked mailed: nothing written before e-mail existed is
mailed now.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-07 02:00:00.000000
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("mailed_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE event SET mailed_at = created_at")
    op.create_index("ix_event_mailed_at", "event", ["mailed_at"])
    op.create_index("ix_task_deadline", "task", ["deadline"])
    op.create_table(
        "email_message",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_email_message_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_message")),
        sa.UniqueConstraint(
            "event_id", "to_address", name=op.f("uq_email_message_event_id_to_address")
        ),
    )
    op.create_index("ix_email_message_state_next", "email_message", ["state", "next_attempt_at"])
    op.create_table(
        "email_opt_out",
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_email_opt_out_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_email_opt_out_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "user_id", "kind", name=op.f("pk_email_opt_out")),
    )
    op.create_table(
        "task_reminder",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
            name=op.f("fk_task_reminder_task_id_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "kind", "deadline", name=op.f("pk_task_reminder")),
    )
    slot = op.create_table(
        "schedule_slot",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_schedule_slot")),
    )
    op.bulk_insert(slot, [{"name": "reminders", "due_at": datetime(2000, 1, 1)}])


def downgrade() -> None:
    op.drop_table("schedule_slot")
    op.drop_table("task_reminder")
    op.drop_table("email_opt_out")
    op.drop_index("ix_email_message_state_next", table_name="email_message")
    op.drop_table("email_message")
    op.drop_index("ix_task_deadline", table_name="task")
    op.drop_index("ix_event_mailed_at", table_name="event")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("mailed_at")
