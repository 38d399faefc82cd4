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

import os
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
                "timeout": settings.lock_timeout_ms / 1000,
            },
        )
        _configure_sqlite(engine, settings.lock_timeout_ms, settings.sqlite_mmap_mb)
        return engine
    # No pre-ping: it costs a round trip per request; a dropped connection fails its
    # request with 503 (nothing applied) and the pool replaces it. A lock wait longer than
    # the busy timeout fails the same way, as SQLite's busy timeout does.
    return create_engine(
        url,
        echo=settings.database_echo,
        pool_size=5,
        max_overflow=5,
        connect_args={"options": f"-c lock_timeout={int(settings.lock_timeout_ms)}"},
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
        self.write_gate: threading.RLock | None = None

    def enter_write(self) -> "threading.RLock | None":
        """Take the write gate, if a checkpointer keeps one (`Checkpointer`); the caller
        releases what it returns. A gate held longer than its timeout is passed by: it
        only makes the WAL start over sooner, and writes are as safe without it."""
        gate = self.write_gate
        if gate is not None and gate.acquire(timeout=Checkpointer.GATE_TIMEOUT_S):
            return gate
        return None

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
    while one runs, so the copy and its fsyncs happen beside the event loop instead of
    inside a request.

    The thread also starts the WAL over. SQLite does that only when a writer begins with
    every frame copied into the database file and that file synced; under steady writes
    a PASSIVE checkpoint never gets there (frames arrive while it copies), and it never
    syncs the database file either, so the kernel holds seconds of its writes. Left
    alone, the WAL would grow until a COMMIT crossed SQLite's own threshold and did the
    rest inline, syncing all of those writes on the event loop (330 ms, measured). Past
    `RESTART_PAGES` the thread syncs the database file itself, catches up, and copies the
    last frames while it holds `write_gate`, which every write transaction takes
    (`UnitOfWork`): writers wait only for that last copy and its two fsyncs, a few
    milliseconds. Request connections keep SQLite's inline checkpoint as a safety net,
    at `FALLBACK_PAGES`. When a reader elsewhere (another process) keeps the WAL from
    being copied to its end, the thread tries again only after a quarter more pages.
    """

    RESTART_PAGES = 20_000
    FALLBACK_PAGES = 40_000
    GATE_TIMEOUT_S = 5.0

    def __init__(self, engine: Engine, interval: float) -> None:
        self._path = engine.url.database or ""
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self.write_gate = threading.RLock()
        self._restart_at = self.RESTART_PAGES
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
        database_file = os.open(self._path, os.O_RDONLY)
        try:
            while not self._stop.wait(self._interval):
                try:
                    self._round(connection, database_file)
                except (sqlite3.Error, OSError):
                    continue  # busy or gone for a moment: the next round tries again
        finally:
            os.close(database_file)
            connection.close()

    def _round(self, connection: sqlite3.Connection, database_file: int) -> None:
        frames, _ = _checkpoint(connection)
        if frames < self.RESTART_PAGES:
            self._restart_at = self.RESTART_PAGES  # the WAL started over
            return
        if frames < self._restart_at:
            return
        _sync(database_file)
        _checkpoint(connection)
        _sync(database_file)
        if not self.write_gate.acquire(timeout=self.GATE_TIMEOUT_S):
            return
        try:
            frames, copied = _checkpoint(connection)  # to the end: the next writer restarts
        finally:
            self.write_gate.release()
        if copied < frames:
            self._restart_at = frames + self.RESTART_PAGES // 4

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _checkpoint(connection: sqlite3.Connection) -> tuple[int, int]:
    """A PASSIVE checkpoint: the frames in the WAL, and how many of them are copied."""
    _, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(frames), int(copied)


_sync = getattr(os, "fdatasync", os.fsync)
