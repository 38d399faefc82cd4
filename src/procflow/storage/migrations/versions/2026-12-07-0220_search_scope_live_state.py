"""full-text search: the scope token also says whether a row is visible, and keys keep dates

SQLite only (PostgreSQL is unchanged). A search used to match the index and then read every
matching row of the table to drop archived ones and to count, which over 100,000 runs cost
more than the match itself. Now the `scope` token of `search_fts` is the kind, the
organization id and, for a row that no search may show, an `x`: an archived template,
process or task, a task of an archived process, a step or form field of an archived
template, a kick-off field. `search_key` also keeps each row's `created_at`, the ranking's
tie-break. Together they let a search count and page by the index alone. Triggers keep
both current when a row is archived or restored, directly or through its template or run.

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-07 02:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
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
_LIVE_TEMPLATE = (
    "EXISTS (SELECT 1 FROM checklist WHERE id = {r}.checklist_id AND archived_at IS NULL)"
)


def _org(table: str, r: str) -> str:
    if table in ("step", "form_field"):
        return f"(SELECT org_id FROM checklist WHERE id = {r}.checklist_id)"
    return f"{r}.org_id"


def _live(table: str, r: str) -> str:
    """When a search may show the row `r` of `table` (to members who see the whole kind)."""
    if table in ("checklist", "run"):
        return f"{r}.archived_at IS NULL"
    if table == "task":
        return (
            f"{r}.archived_at IS NULL AND ({r}.run_id IS NULL OR EXISTS"
            f" (SELECT 1 FROM run WHERE id = {r}.run_id AND archived_at IS NULL))"
        )
    if table == "step":
        return _LIVE_TEMPLATE.format(r=r)
    return f"{r}.step_id IS NOT NULL AND " + _LIVE_TEMPLATE.format(r=r)


def _scope(kind: str, table: str, r: str) -> str:
    return f"'{kind}' || {_org(table, r)} || CASE WHEN {_live(table, r)} THEN '' ELSE 'x' END"


def _doc(kind: str, r: str) -> str:
    return f"(SELECT doc FROM search_key WHERE kind = '{kind}' AND object_id = {r}.id)"


def _docs(kind: str, table: str, where: str) -> str:
    return (
        f"(SELECT k.doc FROM search_key AS k JOIN {table} AS t"
        f" ON k.kind = '{kind}' AND k.object_id = t.id WHERE {where})"
    )


def _rescope(kind: str, table: str) -> str:
    return f"UPDATE search_fts SET scope = {_scope(kind, table, 'NEW')} WHERE rowid = {_doc(kind, 'NEW')};"


def _triggers(kind: str, table: str, title: str, body: str) -> list[str]:
    made = [
        f"""CREATE TRIGGER search_{table}_insert AFTER INSERT ON {table} BEGIN
            INSERT INTO search_key (kind, object_id, created_at)
                VALUES ('{kind}', NEW.id, NEW.created_at);
            INSERT INTO search_fts (rowid, title, body, scope)
                VALUES ({_doc(kind, "NEW")}, NEW.{title}, coalesce(NEW.{body}, ''),
                        {_scope(kind, table, "NEW")});
        END""",
        f"""CREATE TRIGGER search_{table}_created AFTER UPDATE OF created_at ON {table}
            WHEN OLD.created_at IS NOT NEW.created_at BEGIN
            UPDATE search_key SET created_at = NEW.created_at
                WHERE kind = '{kind}' AND object_id = NEW.id;
        END""",
    ]
    moves = {"checklist": "archived_at", "run": "archived_at", "task": "archived_at, run_id"}
    moves["form_field"] = "step_id"
    if table in moves:
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in moves[table].split(", "))
        cascade = ""
        state = "CASE WHEN NEW.archived_at IS NULL THEN '' ELSE 'x' END"
        if table == "checklist":
            cascade = (
                f"UPDATE search_fts SET scope = 'step' || NEW.org_id || {state}"
                f" WHERE rowid IN {_docs('step', 'step', 't.checklist_id = NEW.id')};"
                f"UPDATE search_fts SET scope = 'capture' || NEW.org_id || {state} WHERE rowid IN"
                f" {_docs('capture', 'form_field', 't.checklist_id = NEW.id AND t.step_id IS NOT NULL')};"
            )
        elif table == "run":
            cascade = (
                f"UPDATE search_fts SET scope = 'task' || NEW.org_id || {state} WHERE rowid IN"
                f" {_docs('task', 'task', 't.run_id = NEW.id AND t.archived_at IS NULL')};"
            )
        made.append(
            f"""CREATE TRIGGER search_{table}_scope AFTER UPDATE OF {moves[table]} ON {table}
                WHEN {changed} BEGIN
                {_rescope(kind, table)}
                {cascade}
            END"""
        )
    return made


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("ALTER TABLE search_key ADD COLUMN created_at DATETIME")
    for kind, table, title, body in INDEXED:
        op.execute(f"DROP TRIGGER IF EXISTS search_{table}_insert")
        op.execute(
            f"UPDATE search_key SET created_at = (SELECT created_at FROM {table}"
            f" WHERE id = search_key.object_id) WHERE kind = '{kind}'"
        )
        op.execute(
            f"UPDATE search_fts SET scope = (SELECT {_scope(kind, table, 't')}"
            f" FROM search_key AS k JOIN {table} AS t ON k.kind = '{kind}'"
            f" AND k.object_id = t.id WHERE k.doc = search_fts.rowid)"
            f" WHERE rowid IN {_docs(kind, table, 'NOT (' + _live(table, 't') + ')')}"
        )
        for statement in _triggers(kind, table, title, body):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for kind, table, title, body in INDEXED:
        for name in ("insert", "created", "scope"):
            op.execute(f"DROP TRIGGER IF EXISTS search_{table}_{name}")
        op.execute(
            f"UPDATE search_fts SET scope = (SELECT '{kind}' || {_org(table, 't')}"
            f" FROM search_key AS k JOIN {table} AS t ON k.kind = '{kind}'"
            f" AND k.object_id = t.id WHERE k.doc = search_fts.rowid)"
            f" WHERE rowid IN {_docs(kind, table, 'NOT (' + _live(table, 't') + ')')}"
        )
        key = f"(SELECT doc FROM search_key WHERE kind = '{kind}' AND object_id = NEW.id)"
        op.execute(
            f"""CREATE TRIGGER search_{table}_insert AFTER INSERT ON {table} BEGIN
                INSERT INTO search_key (kind, object_id) VALUES ('{kind}', NEW.id);
                INSERT INTO search_fts (rowid, title, body, scope)
                    VALUES ({key}, NEW.{title}, coalesce(NEW.{body}, ''),
                            '{kind}' || {_org(table, "NEW")});
            END"""
        )
    op.execute("ALTER TABLE search_key DROP COLUMN created_at")
