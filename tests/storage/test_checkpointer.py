"""SQLite's WAL is checkpointed by a background thread, not inside requests.

The benchmark shows what it is for (BENCHMARKS.md); these show that it works."""

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from procflow.storage.database import Checkpointer, make_engine, make_session_factory


def test_a_background_checkpoint_copies_the_wal_into_the_database(tmp_path: Path) -> None:
    path = tmp_path / "checkpointed.db"
    engine = make_engine(Settings(database_url=f"sqlite:///{path}"))
    checkpointer = Checkpointer.start_for(engine, 10)
    assert checkpointer is not None
    try:
        with engine.begin() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == (
                Checkpointer.FALLBACK_PAGES
            )
            connection.execute(text("CREATE TABLE t (x TEXT)"))
            for i in range(200):
                connection.execute(text("INSERT INTO t VALUES (:x)"), {"x": str(i) * 100})
        # Only a checkpoint writes pages into the database file itself.
        deadline = time.monotonic() + 5
        while path.stat().st_size < 40_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size >= 40_000
    finally:
        checkpointer.stop()
        engine.dispose()


def test_no_checkpointer_for_memory_databases_or_when_turned_off(tmp_path: Path) -> None:
    memory = make_engine(Settings(database_url="sqlite://"))
    assert Checkpointer.start_for(memory, 50) is None
    on_file = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'plain.db'}"))
    assert Checkpointer.start_for(on_file, 0) is None
    with on_file.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    memory.dispose()
    on_file.dispose()


def _wal_restarts(path: Path) -> int:
    """The WAL header's checkpoint sequence number: SQLite adds one at every restart."""
    with open(f"{path}-wal", "rb") as wal:
        return int.from_bytes(wal.read(16)[12:16], "big")


def test_under_steady_writes_the_wal_starts_over_and_stays_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Checkpointer, "RESTART_PAGES", 60)
    path = tmp_path / "steady.db"
    engine = make_engine(Settings(database_url=f"sqlite:///{path}"))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x TEXT)"))
    checkpointer = Checkpointer.start_for(engine, 5)
    assert checkpointer is not None
    sessions = make_session_factory(engine)
    sessions.write_gate = checkpointer.write_gate
    try:
        with UnitOfWork(sessions, write=True) as uow:
            uow.connection.execute(text("INSERT INTO t VALUES ('first')"))
        restarts = _wal_restarts(path)
        deadline = time.monotonic() + 10
        largest = 0
        while _wal_restarts(path) < restarts + 3 and time.monotonic() < deadline:
            with UnitOfWork(sessions, write=True) as uow:
                uow.connection.execute(text("INSERT INTO t VALUES (:x)"), {"x": "x" * 3000})
            largest = max(largest, Path(f"{path}-wal").stat().st_size)
        assert _wal_restarts(path) >= restarts + 3
        assert largest < 4 * Checkpointer.RESTART_PAGES * 4096
    finally:
        checkpointer.stop()
        engine.dispose()


def test_a_write_transaction_holds_the_gate_and_a_read_does_not(tmp_path: Path) -> None:
    engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'gate.db'}"))
    sessions = make_session_factory(engine)
    gate = sessions.write_gate = threading.RLock()

    def free_elsewhere() -> bool:
        outcome: list[bool] = []

        def probe() -> None:
            taken = gate.acquire(blocking=False)
            if taken:
                gate.release()
            outcome.append(taken)

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()
        return outcome[0]

    with UnitOfWork(sessions, write=False):
        assert free_elsewhere()
    with UnitOfWork(sessions, write=True):
        assert not free_elsewhere()
    assert free_elsewhere()
    with pytest.raises(RuntimeError), UnitOfWork(sessions, write=True):
        raise RuntimeError("a failed write gives the gate back too")
    assert free_elsewhere()
    engine.dispose()
