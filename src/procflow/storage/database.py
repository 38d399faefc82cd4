"""Engine and session factory for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout. The driver's own
transaction handling is switched off so that procflow can open write transactions with
`BEGIN IMMEDIATE`: a writer takes the lock up front instead of failing to upgrade later.

A server keeps one connection checked out and lends it to one transaction at a time
(`SessionFactory`), and it reads the database file through a memory map
(`sqlite_mmap_mb`): page reads then cost no system call.

A server also moves WAL checkpoints off the request path (`Checkpointer`): by default
SQLite runs one inside whichever COMMIT grows the WAL past 1,000 pages, which under load
(about seven pages per run update) stalls the event loop for 5-15 ms every 150 writes.
"""

import sqlite3
import threading
import weakref
from contextlib import suppress
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from procflow.settings import Settings

writing: ContextVar[bool] = ContextVar("writing", default=False)
_checkpointed: "weakref.WeakSet[Engine]" = weakref.WeakSet()


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
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms, settings.sqlite_mmap_mb)
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


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, mmap_mb: int) -> None:
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
        if engine in _checkpointed:
            cursor.execute(f"PRAGMA wal_autocheckpoint={Checkpointer.FALLBACK_PAGES}")
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


Bind = Session | Connection
"""Where Core statements run: a session, or the connection of its unit of work (a unit of
work makes its session only when asked for it; the hottest writes never ask)."""


def connection_of(bind: Bind) -> Connection:
    """The transaction's connection; for a session, looked up once per session.

    `Session.connection()` is cheap once but not free; the hot paths run several
    statements per request on it.
    """
    if isinstance(bind, Connection):
        return bind
    session = bind
    connection: Connection | None = session.info.get("connection")
    if connection is None or connection.closed:
        connection = session.info["connection"] = session.connection()
    return connection


class SessionFactory(sessionmaker[Session]):
    """Sessions, and the connections their transactions run on.

    Checking a connection out of the pool for every transaction, and giving it back with
    a reset, costs about 60 µs, more than an UPDATE. A server's transactions run one
    after another on its event loop, so while lending is on (`keep_connection`, from the
    server's start to its end) one connection stays checked out and is lent to one
    transaction at a time. A transaction that finds it lent (a second transaction
    opened inside the first, or one on another thread) checks out its own, as all do
    while lending is off. A lent connection that failed is closed, never lent again.
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__(bind=engine, expire_on_commit=False, autoflush=False)
        self.engine = engine
        self._lending = False
        self._kept: Connection | None = None
        self._free = threading.Lock()

    def keep_connection(self) -> None:
        self._lending = True

    def release_connection(self) -> None:
        """Stop lending; the kept connection goes back to the pool (after its current
        transaction, if one is running)."""
        self._lending = False
        if self._free.acquire(blocking=False):
            try:
                self._drop_kept()
            finally:
                self._free.release()

    def borrow(self) -> Connection:
        """A connection for one transaction; give it back with `give_back`."""
        if self._lending and self._free.acquire(blocking=False):
            kept = self._kept
            if kept is None or kept.closed or kept.invalidated:
                try:
                    kept = self._kept = self.engine.connect()
                except BaseException:
                    self._kept = None
                    self._free.release()
                    raise
            return kept
        return self.engine.connect()

    def give_back(self, connection: Connection, *, failed: bool) -> None:
        if connection is not self._kept:
            connection.close()
            return
        try:
            if failed or not self._lending:
                self._drop_kept()
        finally:
            self._free.release()

    def _drop_kept(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            with suppress(sa_exc.DBAPIError):
                kept.close()


def make_session_factory(engine: Engine) -> SessionFactory:
    return SessionFactory(engine)


class Checkpointer:
    """Checkpoints a SQLite file's WAL from a background thread, every `interval` seconds.

    PASSIVE checkpoints never block readers or writers, and `sqlite3` releases the GIL
    while one runs, so the copy and the fsync happen beside the event loop instead of
    inside a request. Request connections keep an automatic checkpoint only as a safety
    net, at `FALLBACK_PAGES`. Under sustained writes that net is what starts the WAL over:
    a background checkpoint never finds the WAL fully copied when a writer begins, as
    frames arrive while it copies, so the WAL grows until a COMMIT crosses the net and
    finishes the copy inline (little is left to copy by then).
    """

    FALLBACK_PAGES = 20_000

    def __init__(self, engine: Engine, interval: float) -> None:
        self._path = engine.url.database or ""
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        _checkpointed.add(engine)
        engine.pool.dispose()  # connections opened before now keep SQLite's default

    @classmethod
    def start_for(cls, engine: Engine, interval_ms: int) -> "Checkpointer | None":
        """A running checkpointer for a file-backed SQLite engine, else None."""
        database = engine.url.database
        if (
            engine.dialect.name != "sqlite"
            or interval_ms <= 0
            or database in (None, "", ":memory:")
        ):
            return None
        checkpointer = cls(engine, interval_ms / 1000)
        checkpointer._thread.start()
        return checkpointer

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self._interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # busy or gone for a moment: the next round tries again
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
