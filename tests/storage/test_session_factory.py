"""The session factory lends one kept connection to one transaction at a time."""

import threading

import pytest
from sqlalchemy import Engine, exc, text

from procflow.errors import Unavailable
from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from procflow.storage.database import make_engine, make_session_factory


def test_without_lending_each_transaction_has_its_own_connection(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with UnitOfWork(sessions, write=False) as first:
        seen = first.connection
    with UnitOfWork(sessions, write=False) as second:
        assert second.connection is not seen


def test_while_lending_transactions_reuse_the_kept_connection(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    sessions.keep_connection()
    try:
        with UnitOfWork(sessions, write=True) as first:
            kept = first.connection
            with UnitOfWork(sessions, write=False) as nested:
                assert nested.connection is not kept  # lent out: another one
        with UnitOfWork(sessions, write=False) as again:
            assert again.connection is kept
    finally:
        sessions.release_connection()
    assert kept.closed


def test_another_thread_gets_its_own_connection_while_the_kept_one_is_lent(
    engine: Engine,
) -> None:
    sessions = make_session_factory(engine)
    sessions.keep_connection()
    seen: list[object] = []
    try:
        with UnitOfWork(sessions, write=False) as mine:

            def other() -> None:
                with UnitOfWork(sessions, write=False) as theirs:
                    seen.append(theirs.connection)

            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
            assert seen
            assert seen[0] is not mine.connection
    finally:
        sessions.release_connection()


def test_a_kept_connection_that_failed_is_replaced(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    sessions.keep_connection()
    try:
        with UnitOfWork(sessions, write=False) as first:
            kept = first.connection
        with (
            pytest.raises((Unavailable, exc.DBAPIError)),
            UnitOfWork(sessions, write=True) as failing,
        ):
            failing.connection.execute(text("SELECT * FROM no_such_table_at_all"))
        assert kept.closed
        with UnitOfWork(sessions, write=False) as after:
            assert after.connection is not kept
            assert after.connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        sessions.release_connection()


def test_a_session_is_made_only_when_asked_for(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with UnitOfWork(sessions, write=False) as uow:
        assert uow._session is None
        assert uow.session.connection() is uow.connection


def test_sqlite_reads_through_a_memory_map_of_the_configured_size(settings: Settings) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("a SQLite setting")
    engine = make_engine(settings.model_copy(update={"sqlite_mmap_mb": 16}))
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA mmap_size").scalar() == 16 * 1024 * 1024
    finally:
        engine.dispose()
