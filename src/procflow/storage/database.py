"""Engine and session factory for SQLite (default) and PostgreSQL.

What only SQLite needs (its connection set-up, the WAL checkpointer and its write gate,
the driver-level codecs of the hot path) lives in `storage.sqlite`; this module chooses.
"""

from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from procflow.settings import Settings
from procflow.storage.sqlite.engine import make_sqlite_engine
from procflow.storage.sqlite.gate import WriteGate
from procflow.storage.sqlite.lending import ConnectionLender


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if is_sqlite(url):
        return make_sqlite_engine(
            url,
            echo=settings.database_echo,
            busy_timeout_ms=settings.lock_timeout_ms,
            mmap_mb=settings.sqlite_mmap_mb,
        )
    # No pre-ping: it costs a round trip per request; a dropped connection fails its
    # request with 503 (nothing applied) and the pool replaces it. A lock wait longer than
    # the busy timeout fails the same way, as SQLite's busy timeout does. No JIT: a list
    # over a million runs is costed above `jit_above_cost`, and compiling its plan took
    # longer (90-135 ms) than running it; no request here runs long enough to repay it.
    return create_engine(
        url,
        echo=settings.database_echo,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
        connect_args={"options": f"-c lock_timeout={int(settings.lock_timeout_ms)} -c jit=off"},
    )


Bind = Session | Connection
"""Where Core statements run: a session, or the connection of its unit of work."""


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


if TYPE_CHECKING:
    from procflow.storage.blobs import BlobStore
    from procflow.storage.threads import DatabaseThreads


class SessionFactory(sessionmaker[Session]):
    """Sessions, the connections their transactions run on (`connections`, which a
    server lends one at a time: `storage.sqlite.lending`), and the write gate every
    write transaction passes when a SQLite checkpointer keeps one."""

    def __init__(self, engine: Engine, *, write_gate: WriteGate | None = None) -> None:
        super().__init__(bind=engine, expire_on_commit=False, autoflush=False)
        self.engine = engine
        self.connections = ConnectionLender(engine)
        self.write_gate = write_gate
        # Whether webhook URLs may aim at private addresses (PROCFLOW_WEBHOOK_ALLOW_PRIVATE):
        # the services that save and send them read it through their unit of work.
        self.allow_private_webhooks = False
        # Where uploaded files' bytes live (`storage.blobs`), when the owner of this
        # factory has one: the app sets it; other callers leave bytes to the sweeper.
        self.blobs: BlobStore | None = None
        # PostgreSQL's request threads (`storage.threads`), while a server runs; on SQLite,
        # and outside a server, transactions run where they are opened.
        self.threads: DatabaseThreads | None = None

    def keep_connection(self) -> None:
        self.connections.keep()

    def release_connection(self) -> None:
        self.connections.release()


def make_session_factory(engine: Engine, *, write_gate: WriteGate | None = None) -> SessionFactory:
    return SessionFactory(engine, write_gate=write_gate)
