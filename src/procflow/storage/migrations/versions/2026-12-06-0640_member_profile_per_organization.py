"""membership: names and time zone per organization, not per person

A person shared by several organizations had one profile, so one organization's admin
could read and overwrite what the others saw of them. Each membership now holds its own
copy, starting from the person's current values; the person keeps only the e-mail.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 06:40:00.000000
"""

import sqlite3
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROFILE = (("first_name", 100, ""), ("last_name", 100, ""), ("timezone", 64, "UTC"))


def _columns() -> list[sa.Column[str]]:
    return [
        sa.Column(name, sa.String(length), nullable=False, server_default=value)
        for name, length, value in PROFILE
    ]


def _can_drop_columns() -> None:
    """SQLite drops a column in place from 3.35 on; rebuilding the table instead would
    cascade-delete every row that refers to it (foreign keys are on)."""
    if op.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        raise RuntimeError(f"procflow needs SQLite 3.35 or newer, not {sqlite3.sqlite_version}")


def upgrade() -> None:
    _can_drop_columns()
    for column in _columns():
        op.add_column("membership", column)
    copies = ", ".join(
        f"{name} = (SELECT u.{name} FROM user_account u WHERE u.id = membership.user_id)"
        for name, _, _ in PROFILE
    )
    op.execute(sa.text(f"UPDATE membership SET {copies}"))
    for name, _, _ in PROFILE:
        op.drop_column("user_account", name)


def downgrade() -> None:
    """Back to one profile per person: that of their oldest membership."""
    _can_drop_columns()
    for column in _columns():
        op.add_column("user_account", column)
    copies = ", ".join(
        f"{name} = COALESCE((SELECT m.{name} FROM membership m"
        f" WHERE m.user_id = user_account.id ORDER BY m.id LIMIT 1), {name})"
        for name, _, _ in PROFILE
    )
    op.execute(sa.text(f"UPDATE user_account SET {copies}"))
    for name, _, _ in PROFILE:
        op.drop_column("membership", name)
    if op.get_bind().dialect.name == "postgresql":
        for name, _, _ in PROFILE:
            op.alter_column("user_account", name, server_default=None)
