"""One transaction per request or command.

A UnitOfWork borrows a connection and begins a transaction on it; leaving its block
commits, or rolls back on error. Its ORM session is made only when a use case asks for
it: the hottest writes run on `connection` alone. Database faults that mean "try again"
(SQLite busy, a PostgreSQL lock wait beyond its timeout, a dropped connection) surface as
`Unavailable` with everything rolled back. A constraint that a concurrent transaction won
first (two clients creating the same unique title at once) surfaces as `Conflict`: the
validation passed, and a retry would see the other's write.

Work outside the database that must follow the transaction's fate registers with it:
`after_commit` runs once the commit succeeded (deleting a removed file's bytes),
`after_rollback` once it rolled back or its commit failed (deleting the bytes of an upload
whose row was never committed). A failing callback is suppressed: what it leaves behind is
bytes without a row, which the file sweeper removes.

A write transaction also holds the session factory's write gate, when a SQLite
checkpointer keeps one: it lets the checkpointer start the WAL over between two writes
(`storage.sqlite.checkpointer`).
"""

from collections.abc import Callable
from contextlib import suppress
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, RootTransaction
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from procflow.errors import Conflict, Unavailable
from procflow.storage.blobs import BlobStore
from procflow.storage.database import SessionFactory
from procflow.storage.sqlite.engine import writing
from procflow.storage.sqlite.gate import WriteGate

# A pool with no free connection within its timeout is as busy as a lock held too long.
RETRY_LATER = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def translate(error: BaseException) -> BaseException | None:
    """The domain error a database fault stands for, if it is one."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return Unavailable()
    if isinstance(error, RETRY_LATER):
        return Unavailable()
    if isinstance(error, sa_exc.IntegrityError):
        return Conflict("A concurrent request changed the same data first; retry it.")
    return None


def _run_all(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        with suppress(Exception):
            callback()
    callbacks.clear()


def _roll_back(connection: Connection, transaction: RootTransaction) -> None:
    """Roll back, unless the session already did (a statement of its own failed)."""
    if connection.get_transaction() is transaction:
        transaction.rollback()


class UnitOfWork:
    def __init__(self, factory: SessionFactory, *, write: bool) -> None:
        self._factory = factory
        self._write = write
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None
        self._session: Session | None = None
        self.after_commit: list[Callable[[], None]] = []
        self.after_rollback: list[Callable[[], None]] = []

    @property
    def blobs(self) -> BlobStore | None:
        """The blob store of uploaded files, if the factory has one."""
        return self._factory.blobs

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("UnitOfWork used outside its block")
        return self._connection

    @property
    def session(self) -> Session:
        if self._session is None:
            session = self._factory(bind=self.connection, join_transaction_mode="rollback_only")
            session.info["connection"] = self._connection
            self._session = session
        return self._session

    @property
    def allow_private_webhooks(self) -> bool:
        return self._factory.allow_private_webhooks

    def flush(self) -> None:
        """Send the session's pending changes, if a session was made."""
        if self._session is not None:
            self._session.flush()

    def __enter__(self) -> Self:
        self._token = writing.set(self._write)
        self._gate = self._enter_gate()
        try:
            connection = self._factory.connections.borrow()
        except BaseException as error:
            self._leave()
            raise (translate(error) or error) from error
        try:
            self._transaction = connection.begin()
        except BaseException as error:
            self._factory.connections.give_back(connection, failed=True)
            self._leave()
            raise (translate(error) or error) from error
        self._connection = connection
        return self

    def _enter_gate(self) -> WriteGate | None:
        gate = self._factory.write_gate if self._write else None
        return gate if gate is not None and gate.enter() else None

    def _leave(self) -> None:
        if self._gate is not None:
            self._gate.leave()
        writing.reset(self._token)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, transaction = self.connection, self._transaction
        assert transaction is not None
        failed = isinstance(exc, sa_exc.DBAPIError)
        committed = False
        try:
            if exc_type is None:
                self.flush()
                transaction.commit()
                committed = True
            else:
                _roll_back(connection, transaction)
        except sa_exc.DBAPIError as error:
            failed = True
            with suppress(sa_exc.DBAPIError):
                _roll_back(connection, transaction)
            raise (translate(error) or error) from error
        finally:
            if self._session is not None:
                self._session.close()
            self._session = self._transaction = self._connection = None
            self._factory.connections.give_back(connection, failed=failed)
            self._leave()
            _run_all(self.after_commit if committed else self.after_rollback)
        if exc is not None and (domain := translate(exc)) is not None:
            raise domain from exc
