"""tags and groups: titles and names unique ignoring case, enforced by the database

Until now the services checked "unique ignoring case" before inserting, and two
concurrent requests (two server processes on PostgreSQL) could both pass the check. Each
tag and group now stores its title or name case-folded (`title_key`, `name_key`, the
form `procflow.domain.names.fold` gives), under a unique index per organization.

Existing duplicates are kept, renamed: within an organization the oldest tag or group
keeps its title or name, and each later one that equals it ignoring case gets a
" (2)", " (3)", ... suffix (shortened to fit the column), so nothing is lost and an
admin can merge or rename them afterwards. Runs that carry a renamed tag get a new
version, as a rename through the API does.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLD_GROWTH = 3
# (table, column, its length, key column, unique index)
NAMES = (
    ("tag", "title", 30, "title_key", "uq_tag_org_id_title_key"),
    ("member_group", "name", 200, "name_key", "uq_member_group_org_id_name_key"),
)


def fold(name: str) -> str:
    """As `procflow.domain.names.fold` today; a migration keeps its own copy."""
    return name.casefold()


def unique_name(name: str, length: int, taken: set[str]) -> str:
    """`name`, or `name (2)`, `name (3)`, ... whichever is free ignoring case."""
    candidate, number = name, 1
    while fold(candidate) in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name[: length - len(suffix)].rstrip() + suffix
    return candidate


def fill_keys(table: str, column: str, length: int, key: str) -> list[str]:
    """Set every row's key, renaming later duplicates; the ids of renamed rows."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(f"SELECT id, org_id, {column} FROM {table} ORDER BY org_id, created_at, id")
    ).all()
    keepers: dict[tuple[str, str], str] = {}
    for row_id, org_id, name in rows:
        keepers.setdefault((org_id, fold(name)), row_id)
    taken: dict[str, set[str]] = {}
    for org_id, folded in keepers:
        taken.setdefault(org_id, set()).add(folded)
    updates, renamed = [], []
    for row_id, org_id, name in rows:
        wanted = name
        if keepers[(org_id, fold(name))] != row_id:
            wanted = unique_name(name, length, taken[org_id])
            taken[org_id].add(fold(wanted))
            renamed.append(row_id)
        updates.append({"name": wanted, "key": fold(wanted), "id": row_id})
    if updates:
        bind.execute(
            sa.text(f"UPDATE {table} SET {column} = :name, {key} = :key WHERE id = :id"),
            updates,
        )
    return renamed


def upgrade() -> None:
    for table, column, length, key, index in NAMES:
        # NOT NULL needs a default to add a column in place on SQLite (a rebuilt table
        # would cascade-delete the rows that reference it); every row is filled below.
        op.add_column(
            table,
            sa.Column(key, sa.String(length * FOLD_GROWTH), nullable=False, server_default=""),
        )
        renamed = fill_keys(table, column, length, key)
        if table == "tag" and renamed:
            op.get_bind().execute(
                sa.text(
                    "UPDATE run SET version = version + 1 WHERE id IN"
                    " (SELECT run_id FROM tag_link WHERE tag_id IN :ids)"
                ).bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": renamed},
            )
        if op.get_bind().dialect.name != "sqlite":
            op.alter_column(table, key, server_default=None)
        op.create_index(index, table, ["org_id", key], unique=True)


def downgrade() -> None:
    for table, _column, _length, key, index in NAMES:
        op.drop_index(index, table_name=table)
        op.drop_column(table, key)
