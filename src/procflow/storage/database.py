"""Engine and session factory for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout. The driver's own
transaction handling is switched off so that procflow can open write transactions with
`BEGIN IMMEDIATE`: a writer takes the lock up front instead of failing to upgrade later.
"""

from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from procflow.settings import Settings

writing: ContextVar[bool] = ContextVar("writing", default=False)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if is_sqlite(url):
        engine = create_engine(
            url,
            echo=settings.database_echo,
            connect_args={
                "check_same_thread": False,
                "isolation_level": None,
                "timeout": settings.sqlite_busy_timeout_ms / 1000,
            },
        )
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    # No pre-ping: it costs a round trip per request; a dropped connection fails its
    # request with 503 (nothing applied) and the pool replaces it. A lock wait longer than
    # the busy timeout fails the same way, as SQLite's busy timeout does.
    return create_engine(
        url,
        echo=settings.database_echo,
        pool_size=5,
        max_overflow=5,
        connect_args={"options": f"-c lock_timeout={int(settings.sqlite_busy_timeout_ms)}"},
    )


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
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
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing.get() else "BEGIN")


def connection_of(session: Session) -> Connection:
    """The session's transaction connection, looked up once per session.

    `Session.connection()` is cheap once but not free; the hot paths run several
    statements per request on it.
    """
    connection: Connection | None = session.info.get("connection")
    if connection is None or connection.closed:
        connection = session.info["connection"] = session.connection()
    return connection


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
