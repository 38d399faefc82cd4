"""A database of its own for every CLI test, on the kind `PROCFLOW_TEST_DB` names, given to
the command through `PROCFLOW_DATABASE_URL` as an operator would; and a count of the
database connections a command leaves open."""

import itertools
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import Pool

from procflow.settings import get_settings

PG_ADMIN_URL = os.environ.get(
    "PROCFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
_numbers = itertools.count()


def _postgres(statement: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty database (no schema yet): the command under test migrates it."""
    if os.environ.get("PROCFLOW_TEST_DB", "sqlite") == "postgres":
        name = f"procflow_cli_{os.getpid()}_{next(_numbers)}"
        _postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _postgres(f"CREATE DATABASE {name}")
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    else:
        name, url = "", f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PROCFLOW_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    if name:
        _postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class OpenConnections:
    """Database connections opened by this thread and not closed yet (a pool's `dispose`
    closes the ones it holds). Python 3.13 warns about a SQLite connection that is
    garbage-collected while open, which the test suite turns into an error."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.open: dict[int, Any] = {}

    def connected(self, dbapi_connection: Any, _record: Any) -> None:
        if threading.get_ident() == self.thread:
            self.open[id(dbapi_connection)] = dbapi_connection

    def closed(self, dbapi_connection: Any, _record: Any) -> None:
        self.open.pop(id(dbapi_connection), None)

    def count(self) -> int:
        return len(self.open)


@pytest.fixture
def connections() -> Iterator[OpenConnections]:
    tracker = OpenConnections()
    event.listen(Pool, "connect", tracker.connected)
    event.listen(Pool, "close", tracker.closed)
    event.listen(Pool, "close_detached", tracker.closed)
    yield tracker
    event.remove(Pool, "connect", tracker.connected)
    event.remove(Pool, "close", tracker.closed)
    event.remove(Pool, "close_detached", tracker.closed)
