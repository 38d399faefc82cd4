"""assets: uploaded files (Tallyfy's `/assets` and `/file` endpoints)

One row per uploaded file; the bytes live in the configured blob store under
`storage_key`. `run_id` is set once a run's form value holds the file.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "asset",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("storage_key", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("uploaded_from", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.Column("checklist_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_guest", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("archived_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name="fk_asset_org_id_organization",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name="fk_asset_run_id_run", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_asset"),
        sa.UniqueConstraint("storage_key", name="uq_asset_storage_key"),
    )
    op.create_index("ix_asset_org_id_subject", "asset", ["org_id", "subject_type", "subject_id"])
    op.create_index("ix_asset_run_id", "asset", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_asset_run_id", table_name="asset")
    op.drop_index("ix_asset_org_id_subject", table_name="asset")
    op.drop_table("asset")
