"""task: an index that answers the run list's status filters without reading tasks

`GET /runs?status=...` decides each candidate run's status from its tasks: whether it has
an open task, an unfinished one, one with a problem. With only (run_id, position) indexed,
each of those tests read the run's task rows; over a million runs a filtered list tests
thousands of runs and so read three times as many task rows. (run_id, archived_at,
status, has_problem) holds all the tests need.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 05:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_task_run_id_state", "task", ["run_id", "archived_at", "status", "has_problem"]
    )


def downgrade() -> None:
    op.drop_index("ix_task_run_id_state", table_name="task")
