"""How procflow opens SQLite connections and begins their transactions.

WAL mode, foreign keys on, a busy timeout, a large page cache and a memory map (page
reads then cost no system call). The driver's own transaction handling is switched off so
that procflow can open write transactions with `BEGIN IMMEDIATE`: a writer takes the lock
up front instead of failing to upgrade later.
"""

import sqlite3
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc

writing: ContextVar[bool] = ContextVar("writing", default=False)
"""Whether the transaction about to begin writes (`UnitOfWork` sets it)."""


def make_sqlite_engine(url: str, *, echo: bool, busy_timeout_ms: int, mmap_mb: int) -> Engine:
    engine = create_engine(
        url,
        echo=echo,
        connect_args={
            "check_same_thread": False,
            "isolation_level": None,
            "timeout": busy_timeout_ms / 1000,
        },
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # A process server reads runs all over the file: keep 64 MiB of it in the
        # connection's page cache (SQLite's default is 2 MiB).
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute(f"PRAGMA mmap_size={int(mmap_mb) * 1024 * 1024}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight on the driver: every request begins a transaction, and going through
        # `exec_driver_sql` costs more than SQLite's BEGIN itself. Errors (a busy
        # database) become SQLAlchemy's, as from any other statement.
        statement = "BEGIN IMMEDIATE" if writing.get() else "BEGIN"
        try:
            connection.connection.dbapi_connection.execute(statement)
        except sqlite3.Error as error:
            raise sa_exc.DBAPIError.instance(statement, (), error, sqlite3.Error) from error

    return engine
