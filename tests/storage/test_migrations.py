"""The migrations build exactly the schema the models describe, and the trail is sealed."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from procflow.storage.models import Base


def test_no_drift_between_models_and_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
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
