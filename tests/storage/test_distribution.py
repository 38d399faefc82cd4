"""Every table either carries the organization (`org_id`) or is listed here with its place
in a distributed PostgreSQL (docs/scaling.md).

Citus spreads a table over nodes by a distribution column; procflow's is the organization.
A table that does not carry it is either a reference table (copied to every node: the
people and their tokens, looked up before the organization is known) or the child of a
table that does (it follows its parent; distributing it needs `org_id` added first). A new
table without `org_id` fails here until someone decides which it is and says so in
docs/scaling.md.
"""

from sqlalchemy import Engine, inspect

DISTRIBUTED_BY = "org_id"
REFERENCE = {
    "organization": "the organizations themselves: distributed by their own id",
    "user_account": "a person may belong to many organizations",
    "access_token": "looked up by digest before the organization is known",
    "schedule_slot": "periodic jobs of the whole deployment (one row a job)",
}
CHILDREN = {
    "automated_action": "checklist",
    "folder_link": "folder",
    "form_field": "checklist",
    "group_member": "member_group",
    "guest_token": "guest",
    "run_field": "run",
    "run_group": "run",
    "run_member": "run",
    "run_automation": "run",
    "step": "checklist",
    "tag_link": "tag",
    "task_owner": "task",
    "webhook_attempt": "webhook_delivery",
}
# Not data of their own: the migrations' bookkeeping, and SQLite's full-text index (FTS5
# shadow tables and their key map), rebuilt from the searched tables (PostgreSQL keeps its
# index in columns of those tables).
SEARCH_INDEX = {
    "search_fts",
    "search_fts_config",
    "search_fts_content",
    "search_fts_data",
    "search_fts_docsize",
    "search_fts_idx",
    "search_key",
    "search_scope",
}
NOT_DATA = {"alembic_version"} | SEARCH_INDEX


def test_every_table_carries_the_organization_or_is_classified(engine: Engine) -> None:
    schema = inspect(engine)
    tables = set(schema.get_table_names()) - NOT_DATA
    without = {
        t for t in tables if DISTRIBUTED_BY not in {c["name"] for c in schema.get_columns(t)}
    }
    unclassified = sorted(without - set(REFERENCE) - set(CHILDREN))
    assert not unclassified, (
        f"These tables carry no {DISTRIBUTED_BY}: add it, or classify them here and in "
        f"docs/scaling.md: {unclassified}"
    )
    stale = sorted((set(REFERENCE) | set(CHILDREN)) - without)
    assert not stale, f"These listed tables now carry {DISTRIBUTED_BY} or are gone: {stale}"


def test_each_child_follows_a_parent_that_carries_the_organization(engine: Engine) -> None:
    schema = inspect(engine)
    for child, parent in CHILDREN.items():
        parents = {fk["referred_table"] for fk in schema.get_foreign_keys(child)}
        assert parent in parents, f"{child} has no foreign key to {parent}"
        assert DISTRIBUTED_BY in {c["name"] for c in schema.get_columns(parent)}, parent
