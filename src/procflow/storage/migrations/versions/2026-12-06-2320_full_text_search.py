"""full-text search: FTS5 on SQLite, tsvector with GIN indexes on PostgreSQL

SQLite: `search_key` gives every indexed row a stable integer key (an INTEGER PRIMARY KEY,
which VACUUM never renumbers, unlike the implicit rowid of tables keyed by hex ids), and
`search_fts` (FTS5, its own copy of the text) is keyed by it. Its `scope` column holds one
token, the kind followed by the organization id, so that a search narrows to one kind of
one organization inside the index. Triggers on each indexed
table write both in the same transaction as the row. PostgreSQL: a generated, stored
`search_vector` column per indexed table and a GIN index on it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (kind, table, title column, body column), frozen as of this revision.
INDEXED = (
    ("blueprint", "checklist", "title", "summary"),
    ("process", "run", "name", "summary"),
    ("task", "task", "title", "summary"),
    ("step", "step", "title", "summary"),
    ("capture", "form_field", "label", "guidance"),
)


def _org(table: str, row: str) -> str:
    """The row's organization id (steps and form fields have it through their template)."""
    if table in ("step", "form_field"):
        return f"(SELECT org_id FROM checklist WHERE id = {row}.checklist_id)"
    return f"{row}.org_id"


def _sqlite_triggers(kind: str, table: str, title: str, body: str) -> list[str]:
    key = f"(SELECT doc FROM search_key WHERE kind = '{kind}' AND object_id = {{row}}.id)"
    return [
        f"""CREATE TRIGGER search_{table}_insert AFTER INSERT ON {table} BEGIN
            INSERT INTO search_key (kind, object_id) VALUES ('{kind}', NEW.id);
            INSERT INTO search_fts (rowid, title, body, scope)
                VALUES ({key.format(row="NEW")}, NEW.{title}, coalesce(NEW.{body}, ''),
                        '{kind}' || {_org(table, "NEW")});
        END""",
        f"""CREATE TRIGGER search_{table}_update AFTER UPDATE OF {title}, {body} ON {table}
            BEGIN
            UPDATE search_fts SET title = NEW.{title}, body = coalesce(NEW.{body}, '')
                WHERE rowid = {key.format(row="NEW")};
        END""",
        f"""CREATE TRIGGER search_{table}_delete AFTER DELETE ON {table} BEGIN
            DELETE FROM search_fts WHERE rowid = {key.format(row="OLD")};
            DELETE FROM search_key WHERE kind = '{kind}' AND object_id = OLD.id;
        END""",
    ]


def _upgrade_sqlite() -> None:
    op.execute(
        "CREATE TABLE search_key (doc INTEGER PRIMARY KEY, kind VARCHAR(16) NOT NULL,"
        " object_id VARCHAR(32) NOT NULL, UNIQUE (kind, object_id))"
    )
    op.execute(
        "CREATE VIRTUAL TABLE search_fts USING fts5("
        "title, body, scope, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
    )
    for kind, table, title, body in INDEXED:
        op.execute(f"INSERT INTO search_key (kind, object_id) SELECT '{kind}', id FROM {table}")
        op.execute(
            f"INSERT INTO search_fts (rowid, title, body, scope) SELECT k.doc, t.{title},"
            f" coalesce(t.{body}, ''), '{kind}' || {_org(table, 't')}"
            f" FROM {table} AS t JOIN search_key AS k"
            f" ON k.kind = '{kind}' AND k.object_id = t.id"
        )
        for statement in _sqlite_triggers(kind, table, title, body):
            op.execute(statement)


def _upgrade_postgresql() -> None:
    for _kind, table, title, body in INDEXED:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            f"setweight(to_tsvector('simple'::regconfig, coalesce({title}, '')), 'A') || "
            f"setweight(to_tsvector('simple'::regconfig, coalesce({body}, '')), 'B')) STORED"
        )
        op.execute(f"CREATE INDEX ix_{table}_search_vector ON {table} USING gin (search_vector)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _upgrade_sqlite()
    else:
        _upgrade_postgresql()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for _kind, table, _title, _body in INDEXED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS search_{table}_{event}")
        op.execute("DROP TABLE IF EXISTS search_fts")
        op.execute("DROP TABLE IF EXISTS search_key")
        return
    for _kind, table, _title, _body in INDEXED:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_vector")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
