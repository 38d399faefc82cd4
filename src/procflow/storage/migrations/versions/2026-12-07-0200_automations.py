"""automations: template rules (`automated_action`) and each run's matched rules

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "automated_action",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("checklist_id", sa.String(length=32), nullable=False),
        sa.Column("automated_alias", sa.String(length=200), nullable=False),
        sa.Column("condition_logic", sa.String(length=3), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("then_actions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_updated", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checklist_id"],
            ["checklist.id"],
            name="fk_automated_action_checklist_id_checklist",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_automated_action"),
    )
    op.create_index("ix_automated_action_checklist_id", "automated_action", ["checklist_id"])
    op.create_table(
        "run_automation",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name="fk_run_automation_run_id_run", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", name="pk_run_automation"),
    )


def downgrade() -> None:
    op.drop_table("run_automation")
    op.drop_index("ix_automated_action_checklist_id", table_name="automated_action")
    op.drop_table("automated_action")
