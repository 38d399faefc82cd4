"""Copies of the whole database, kept in memory, that reset and restore put back.

On SQLite a snapshot is an in-memory SQLite database filled by SQLite's online backup
API, and restoring runs the same API the other way: page copies, with no SQL per row,
which is what keeps a reset of a thousand runs within a few tens of milliseconds. On
PostgreSQL a snapshot is every table's rows, and restoring empties the tables and inserts
them back in foreign-key order (correct, slower): the sandbox owns that database.
"""

import sqlite3
from typing import Any, Protocol, cast

from fastapi import FastAPI
from sqlalchemy import Engine, Integer, MetaData, insert, select, text

from procflow.services.auth import CallerCache
from procflow.storage.database import is_sqlite
from procflow.storage.models import Base


class Snapshot(Protocol):
    def restore(self, engine: Engine) -> None: ...


class SqliteSnapshot:
    def __init__(self, engine: Engine) -> None:
        self.copy = sqlite3.connect(":memory:", check_same_thread=False)
        raw = engine.raw_connection()
        try:
            cast(sqlite3.Connection, raw.driver_connection).backup(self.copy)
        finally:
            raw.close()

    def restore(self, engine: Engine) -> None:
        raw = engine.raw_connection()
        try:
            self.copy.backup(cast(sqlite3.Connection, raw.driver_connection))
        finally:
            raw.close()


class RowSnapshot:
    """Every table's rows (PostgreSQL, or any other database SQLAlchemy speaks)."""

    def __init__(self, engine: Engine, metadata: MetaData = Base.metadata) -> None:
        self.tables = metadata.sorted_tables
        with engine.connect() as connection:
            self.rows: dict[str, list[dict[str, Any]]] = {
                table.name: [dict(row._mapping) for row in connection.execute(select(table))]
                for table in self.tables
            }

    def restore(self, engine: Engine) -> None:
        with engine.begin() as connection:
            names = [f'"{table.name}"' for table in self.tables]
            # Guards such as the activity trail's append-only trigger would refuse this;
            # the sandbox owns its database, and puts the guards back in this transaction.
            for name in names:
                connection.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER USER"))
            connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
            for table in self.tables:
                if self.rows[table.name]:
                    connection.execute(insert(table), self.rows[table.name])
            for table in self.tables:
                if "id" in table.c and isinstance(table.c.id.type, Integer):
                    connection.execute(
                        text(
                            "SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                            f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false) '
                            "WHERE pg_get_serial_sequence(:t, 'id') IS NOT NULL"
                        ),
                        {"t": table.name},
                    )
            for name in names:
                connection.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER USER"))


def take(engine: Engine) -> Snapshot:
    """A copy of the database as it is now."""
    if is_sqlite(str(engine.url)):
        return SqliteSnapshot(engine)
    return RowSnapshot(engine)


def put_back(app: FastAPI, snapshot: Snapshot) -> None:
    """The database as in `snapshot`; nothing cached from before survives."""
    snapshot.restore(app.state.engine)
    app.state.caller_cache = CallerCache(app.state.settings.auth_cache_seconds)
