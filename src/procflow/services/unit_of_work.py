"""One transaction per request or command.

A UnitOfWork opens a session; leaving its block commits, or rolls back on error. Database
faults that mean "try again" (SQLite busy, a dropped PostgreSQL connection) surface as
`Unavailable` with everything rolled back.
"""

from types import TracebackType
from typing import Self

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from procflow.errors import Unavailable
from procflow.storage.database import writing


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
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as error:
            session.rollback()
            raise Unavailable() from error
        finally:
            session.close()
            self._session = None
            writing.reset(self._token)
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            raise Unavailable() from exc
