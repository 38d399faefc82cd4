"""Alembic environment: runs on a connection handed in by procflow, or on the ini's URL."""

from alembic import context
from sqlalchemy import Connection, create_engine

from procflow.storage.models import Base
from procflow.storage.search_index import include_in_models

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_in_models,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        run_on(conn)
