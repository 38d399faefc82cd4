"""activity: the object index leaves out the run's own records

A run update appends one record per changed field, and every index on `activity` costs
each of them a page write. Records about a run itself are always looked up by `run_id`,
so the (object_type, object_id) index only needs the records about other objects.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 05:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_A_RUN = "object_type <> 'run'"


def upgrade() -> None:
    op.drop_index("ix_activity_object", table_name="activity")
    op.create_index(
        "ix_activity_object",
        "activity",
        ["object_type", "object_id"],
        unique=False,
        sqlite_where=sa.text(NOT_A_RUN),
        postgresql_where=sa.text(NOT_A_RUN),
    )


def downgrade() -> None:
    op.drop_index("ix_activity_object", table_name="activity")
    op.create_index("ix_activity_object", "activity", ["object_type", "object_id"], unique=False)
