"""full-text search: keys in ranges per kind and organization, in date order inside each

SQLite only (PostgreSQL is unchanged). A search matched the `scope` token of its kind and
organization beside its words, ranked every match with `bm25` and broke ties by reading
each match's date from `search_key`. With 100,000 runs the token's list holds 100,000
rows, which `bm25` reads through once per search and again per match, and reading the
dates cost about as much as the ranking.

Now `search_key.doc`, also the row's rowid in `search_fts`, is the number of its kind and
organization (`search_scope`) times 2^41, plus its `created_at` in milliseconds since
2000 (the next free number when that one is taken). A search names its kind and
organization by a rowid range, which FTS5 applies while reading the word lists, and the
rowid order inside the range is the date order, so only the page's keys are read. The
`scope` token stays, for light members' searches and to leave out rows no search may
show (`NOT scope : "...x"`). Keys are renumbered here; new rows get theirs from the insert
triggers, and a row whose `created_at` changes moves to the key of its new date.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 05:00:00.000000
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0014"
down_revision: str | None = "0013"
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
_FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "title, body, scope, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
)
RANGE_BITS = 41  # 2^41 ms: dates from 2000 to 2069 in one kind and organization
_EPOCH_MS = 946_684_800_000  # 2000-01-01 in milliseconds since 1970


def _millis(at: str) -> str:
    """Where in its range the date `at` ('YYYY-MM-DD HH:MM:SS.ffffff') falls: its whole
    seconds read without the fraction (SQLite rounds 15.9995 up to 16, and the milliseconds
    would then count the fraction twice), plus the fraction's milliseconds."""
    since = (
        f"(CAST(strftime('%s', substr({at}, 1, 19)) AS INTEGER) * 1000"
        f" + CAST(substr({at}, 21, 3) AS INTEGER) - {_EPOCH_MS})"
    )
    return f"min(max(coalesce({since}, 0), 0), {2**RANGE_BITS - 1})"


def _range(kind: str, org: str) -> str:
    return (
        f"((SELECT id FROM search_scope WHERE kind = '{kind}' AND org_id = {org}) << {RANGE_BITS})"
    )


def _free_key(base: str) -> str:
    """The first key at or after `base` that no row holds."""
    return (
        f"(SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM search_key WHERE doc = {base})"
        f" THEN {base} ELSE (SELECT k.doc + 1 FROM search_key AS k WHERE k.doc >= {base}"
        " AND NOT EXISTS (SELECT 1 FROM search_key AS n WHERE n.doc = k.doc + 1)"
        " ORDER BY k.doc LIMIT 1) END)"
    )


def _org(table: str, r: str) -> str:
    if table in ("step", "form_field"):
        return f"(SELECT org_id FROM checklist WHERE id = {r}.checklist_id)"
    return f"{r}.org_id"


_LIVE_TEMPLATE = (
    "EXISTS (SELECT 1 FROM checklist WHERE id = {r}.checklist_id AND archived_at IS NULL)"
)


def _live(table: str, r: str) -> str:
    """When a search may show the row `r` of `table` (as in revision 0012)."""
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


def _triggers(kind: str, table: str, title: str, body: str) -> list[str]:
    org = f"coalesce({_org(table, 'NEW')}, '')"
    inserted = _free_key(f"{_range(kind, org)} + {_millis('NEW.created_at')}")
    redated = _free_key(
        f"({_doc(kind, 'NEW')} >> {RANGE_BITS} << {RANGE_BITS}) + {_millis('NEW.created_at')}"
    )
    # Not INSERT OR IGNORE: an outer INSERT OR REPLACE would make it replace the range's
    # row, and so renumber the range under the keys already in it.
    return [
        f"""CREATE TRIGGER search_{table}_insert AFTER INSERT ON {table} BEGIN
            INSERT INTO search_scope (kind, org_id) SELECT '{kind}', {org} WHERE NOT EXISTS
                (SELECT 1 FROM search_scope WHERE kind = '{kind}' AND org_id = {org});
            INSERT INTO search_key (doc, kind, object_id, created_at)
                VALUES ({inserted}, '{kind}', NEW.id, NEW.created_at);
            INSERT INTO search_fts (rowid, title, body, scope)
                VALUES ({_doc(kind, "NEW")}, NEW.{title}, coalesce(NEW.{body}, ''),
                        {_scope(kind, table, "NEW")});
        END""",
        # Both statements compute the same free key: search_key is unchanged in between.
        f"""CREATE TRIGGER search_{table}_created AFTER UPDATE OF created_at ON {table}
            WHEN OLD.created_at IS NOT NEW.created_at BEGIN
            UPDATE search_fts SET rowid = {redated} WHERE rowid = {_doc(kind, "NEW")};
            UPDATE search_key SET doc = {redated}, created_at = NEW.created_at
                WHERE kind = '{kind}' AND object_id = NEW.id;
        END""",
    ]


def _renumber() -> None:
    """Every key into its range, at its date, one past the previous key on a tie."""
    op.execute(
        "CREATE TABLE search_scope (id INTEGER PRIMARY KEY, kind VARCHAR(16) NOT NULL,"
        " org_id VARCHAR(32) NOT NULL, UNIQUE (kind, org_id))"
    )
    # The organization is the scope token without its kind and its trailing `x`.
    org = "coalesce(rtrim(substr(f.scope, length(k.kind) + 1), 'x'), '')"
    op.execute(
        "INSERT INTO search_scope (kind, org_id) SELECT DISTINCT k.kind, "
        f"{org} FROM search_key AS k JOIN search_fts AS f ON f.rowid = k.doc ORDER BY 1, 2"
    )
    bind = op.get_bind()
    rows = bind.execute(
        text(
            f"SELECT k.doc, (s.id << {RANGE_BITS}) + {_millis('k.created_at')} AS base"
            " FROM search_key AS k JOIN search_fts AS f ON f.rowid = k.doc"
            f" JOIN search_scope AS s ON s.kind = k.kind AND s.org_id = {org}"
            " ORDER BY base, k.created_at, k.object_id"
        )
    ).all()
    moves: list[dict[str, int]] = []
    last = -1
    for doc, base in rows:
        last = max(int(base), last + 1)
        moves.append({"old": doc, "new": last})
    op.execute("CREATE TEMP TABLE search_key_move (old INTEGER PRIMARY KEY, new INTEGER)")
    if moves:
        bind.execute(text("INSERT INTO search_key_move (old, new) VALUES (:old, :new)"), moves)
    op.execute(
        "CREATE TEMP TABLE search_key_copy AS SELECT m.new AS doc, k.kind, k.object_id,"
        " k.created_at FROM search_key AS k JOIN search_key_move AS m ON m.old = k.doc"
    )
    op.execute(
        "CREATE TEMP TABLE search_fts_copy AS SELECT m.new AS doc, f.title, f.body, f.scope"
        " FROM search_fts AS f JOIN search_key_move AS m ON m.old = f.rowid"
    )
    op.execute("DELETE FROM search_key")
    op.execute(
        "INSERT INTO search_key (doc, kind, object_id, created_at)"
        " SELECT doc, kind, object_id, created_at FROM search_key_copy ORDER BY doc"
    )
    op.execute("DROP TABLE search_fts")
    op.execute(_FTS)
    op.execute(
        "INSERT INTO search_fts (rowid, title, body, scope)"
        " SELECT doc, title, body, scope FROM search_fts_copy ORDER BY doc"
    )
    for name in ("search_key_move", "search_key_copy", "search_fts_copy"):
        op.execute(f"DROP TABLE temp.{name}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _renumber()
    for kind, table, title, body in INDEXED:
        for name in ("insert", "created"):
            op.execute(f"DROP TRIGGER IF EXISTS search_{table}_{name}")
        for statement in _triggers(kind, table, title, body):
            op.execute(statement)


def downgrade() -> None:
    """Keys stay as they are (any distinct integers do); new rows take the next one."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE search_scope")
    for kind, table, title, body in INDEXED:
        for name in ("insert", "created"):
            op.execute(f"DROP TRIGGER IF EXISTS search_{table}_{name}")
        op.execute(
            f"""CREATE TRIGGER search_{table}_insert AFTER INSERT ON {table} BEGIN
                INSERT INTO search_key (kind, object_id, created_at)
                    VALUES ('{kind}', NEW.id, NEW.created_at);
                INSERT INTO search_fts (rowid, title, body, scope)
                    VALUES ({_doc(kind, "NEW")}, NEW.{title}, coalesce(NEW.{body}, ''),
                            {_scope(kind, table, "NEW")});
            END"""
        )
        op.execute(
            f"""CREATE TRIGGER search_{table}_created AFTER UPDATE OF created_at ON {table}
                WHEN OLD.created_at IS NOT NEW.created_at BEGIN
                UPDATE search_key SET created_at = NEW.created_at
                    WHERE kind = '{kind}' AND object_id = NEW.id;
            END"""
        )
