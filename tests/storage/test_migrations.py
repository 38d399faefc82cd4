"""The migrations build exactly the schema the models describe, and the trail is sealed."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from procflow.storage.models import Base
from procflow.storage.repositories import activity as activity_repo
from procflow.storage.search_index import include_in_models


def test_no_drift_between_models_and_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_in_models}
        )
        assert compare_metadata(context, Base.metadata) == []


@pytest.mark.parametrize(
    "statement", ["UPDATE activity SET verb = 'changed'", "DELETE FROM activity"]
)
def test_activity_records_cannot_be_changed(engine: Engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO activity"
                " (org_id, actor_type, verb, object_type, object_id, created_at) VALUES"
                "  ('o', 'member', 'updated', 'run', 'r', CURRENT_TIMESTAMP)"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))


def test_the_activity_object_index_leaves_out_the_runs_own_records(engine: Engine) -> None:
    """Run updates, the commonest records, skip one index write (migration 0004)."""
    (index,) = [
        i for i in inspect(engine).get_indexes("activity") if i["name"] == "ix_activity_object"
    ]
    predicate = index["dialect_options"][f"{engine.dialect.name}_where"]
    assert "object_type" in str(predicate)
    assert "'run'" in str(predicate)


def test_a_feed_by_object_can_use_the_partial_index(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan is deterministic; PostgreSQL picks by table statistics")
    query = activity_repo._query(
        "o", activity_repo.ActivityFilter(object_type="task", object_id="t")
    )
    with engine.connect() as connection:
        plan = connection.execute(
            text(
                "EXPLAIN QUERY PLAN "
                + str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            )
        ).all()
    assert any("ix_activity_object" in str(row) for row in plan)
