"""What the full-text index covers, shared by its migration, its queries and the schema check.

Each searchable kind (Tallyfy's `on=` values) is one table: its title is weighted above its
body. On SQLite the index is an FTS5 table, `search_fts`, whose rowids come from
`search_key` (kind, object id): each kind of each organization (`search_scope`) has its
own range of rowids, in date order inside it. Triggers on the indexed tables keep them in
step inside the writing transaction, whatever code path writes. On PostgreSQL each indexed
table has a generated `search_vector` column with a GIN index, so the database itself keeps
it current.
Neither is part of the ORM models: `is_index_object` tells schema comparisons to skip them.
"""

KINDS = ("blueprint", "process", "task", "step", "capture")
"""The indexed kinds; their tables are checklist, run, task, step and form_field."""
VECTOR_COLUMN = "search_vector"
RANGE_BITS = 41
"""SQLite: a row's rowid is its `search_scope` id times 2^RANGE_BITS plus its date."""


def is_index_object(name: str | None, type_: str, _parents: object = None) -> bool:
    """Whether a schema object belongs to the full-text index (not to the models)."""
    if name is None:
        return False
    if type_ == "table":
        return name in ("search_key", "search_scope") or name.startswith("search_fts")
    return name == VECTOR_COLUMN or name.endswith("_" + VECTOR_COLUMN)


def include_in_models(name: str | None, type_: str, parents: object = None) -> bool:
    """`include_name` for Alembic comparisons of the models with the database."""
    return not is_index_object(name, type_, parents)
