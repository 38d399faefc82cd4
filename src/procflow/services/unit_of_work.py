"""One transaction per request or command.

A UnitOfWork opens a session; leaving its block commits, or rolls back on error. Database
faults that mean "try again" (SQLite busy, a PostgreSQL lock wait beyond its timeout, a
dropped connection) surface as `Unavailable` with everything rolled back. A constraint that
a concurrent transaction won first (two clients creating the same unique title at once)
surfaces as `Conflict`: the validation passed, and a retry would see the other's write.
"""

from contextlib import suppress
from types import TracebackType
from typing import Self

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from procflow.errors import Conflict, Unavailable
from procflow.storage.database import writing

RETRY_LATER = (sa_exc.OperationalError, sa_exc.InterfaceError)


def translate(error: BaseException) -> BaseException | None:
    """The domain error a database fault stands for, if it is one."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return Unavailable()
    if isinstance(error, RETRY_LATER):
        return Unavailable()
    if isinstance(error, sa_exc.IntegrityError):
        return Conflict("A concurrent request changed the same data first; retry it.")
    return None


class UnitOfWork:
    def __init__(self, factory: sessionmaker[Session], *, write: bool) -> None:
        self._factory = factory
        self._write = write
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its block")
        return self._session

    def __enter__(self) -> Self:
        self._token = writing.set(self._write)
        self._session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if exc_type is None:
                session.commit()
            else:
                session.rollback()
        except sa_exc.DBAPIError as error:
            with suppress(sa_exc.DBAPIError):
                session.rollback()
            raise (translate(error) or error) from error
        finally:
            session.close()
            self._session = None
            writing.reset(self._token)
        if exc is not None and (domain := translate(exc)) is not None:
            raise domain from exc
