"""SQLite's WAL is checkpointed off the request path, one `step()` at a time.

The benchmark shows what it is for (BENCHMARKS.md); these show that it works. Every test
but one drives the checkpointer by calling `step()`; the last one checks, with a wide
margin, that a started checkpointer steps by itself."""

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from procflow.storage.database import make_engine, make_session_factory
from procflow.storage.sqlite.checkpointer import Checkpointer, start_for
from procflow.storage.sqlite.gate import WriteGate

PAGE = 4096


class CountingGate(WriteGate):
    """A write gate that remembers how often it was taken, and whether it is held."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = 0
        self.held = 0

    def enter(self) -> bool:
        self.entered += 1
        self.held += 1
        return super().enter()

    def leave(self) -> None:
        self.held -= 1
        super().leave()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'wal.db'}"))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x TEXT)"))
    yield engine
    engine.dispose()


def _path(engine: Engine) -> Path:
    return Path(engine.url.database or "")


def _wal_restarts(engine: Engine) -> int:
    """The WAL header's checkpoint sequence number: SQLite adds one at every restart."""
    with open(f"{_path(engine)}-wal", "rb") as wal:
        return int.from_bytes(wal.read(16)[12:16], "big")


def _write(engine: Engine, rows: int, size: int = 3000) -> None:
    with engine.begin() as connection:
        for _ in range(rows):
            connection.execute(text("INSERT INTO t VALUES (:x)"), {"x": "x" * size})


def test_a_step_copies_the_wal_into_the_database(engine: Engine) -> None:
    checkpointer = Checkpointer(engine, WriteGate())
    try:
        before = _path(engine).stat().st_size
        _write(engine, 200, 1000)
        assert _path(engine).stat().st_size == before  # only a checkpoint writes the file
        checkpointer.step()
        assert _path(engine).stat().st_size >= before + 150_000
    finally:
        checkpointer.stop()


def test_request_connections_keep_an_inline_checkpoint_only_as_a_fallback(
    engine: Engine,
) -> None:
    checkpointer = Checkpointer(engine, WriteGate())
    with engine.connect() as connection:
        fallback = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    checkpointer.stop()
    engine.dispose()
    with engine.connect() as connection:
        default = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert (fallback, default) == (Checkpointer.FALLBACK_PAGES, 1000)


def test_no_checkpointer_for_memory_databases_or_when_turned_off(engine: Engine) -> None:
    memory = make_engine(Settings(database_url="sqlite://"))
    assert start_for(memory, WriteGate(), 50) is None
    assert start_for(engine, WriteGate(), 0) is None
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    memory.dispose()


def test_under_steady_writes_the_wal_starts_over_and_stays_bounded(engine: Engine) -> None:
    checkpointer = Checkpointer(engine, WriteGate(), restart_pages=60)
    sessions = make_session_factory(engine, write_gate=checkpointer.gate)
    try:
        _write(engine, 1)
        restarts, largest = _wal_restarts(engine), 0
        for round_ in range(40):
            for _ in range(10):
                with UnitOfWork(sessions, write=True) as uow:
                    uow.connection.execute(text("INSERT INTO t VALUES (:x)"), {"x": str(round_)})
            largest = max(largest, Path(f"{_path(engine)}-wal").stat().st_size)
            checkpointer.step()
        assert _wal_restarts(engine) >= restarts + 3
        assert largest < 4 * 60 * PAGE
    finally:
        checkpointer.stop()


def test_a_long_wal_is_copied_to_its_end_inside_the_gate(engine: Engine) -> None:
    gate = CountingGate()
    checkpointer = Checkpointer(engine, gate, restart_pages=60)
    try:
        _write(engine, 10)
        checkpointer.step()
        assert gate.entered == 0  # a short WAL: a plain checkpoint
        _write(engine, 100)
        restarts = _wal_restarts(engine)
        checkpointer.step()
        assert (gate.entered, gate.held) == (1, 0)
        _write(engine, 1)
        assert _wal_restarts(engine) == restarts + 1  # the next writer started it over
    finally:
        checkpointer.stop()


def test_a_reader_elsewhere_that_holds_the_wal_delays_the_next_restart(
    engine: Engine,
) -> None:
    gate = CountingGate()
    checkpointer = Checkpointer(engine, gate, restart_pages=60)
    reader = sqlite3.connect(_path(engine), isolation_level=None)
    try:
        _write(engine, 10)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # pins the WAL from here on
        _write(engine, 100)
        checkpointer.step()
        assert gate.entered == 1
        _write(engine, 2)
        checkpointer.step()
        assert gate.entered == 1  # not again until a quarter more pages
        _write(engine, 30)
        checkpointer.step()
        assert gate.entered == 2
    finally:
        reader.close()
        checkpointer.stop()


def test_a_write_transaction_holds_the_gate_and_a_read_does_not(engine: Engine) -> None:
    gate = CountingGate()
    sessions = make_session_factory(engine, write_gate=gate)
    with UnitOfWork(sessions, write=False):
        assert gate.held == 0
    with UnitOfWork(sessions, write=True):
        assert gate.held == 1
    assert gate.held == 0
    with pytest.raises(RuntimeError), UnitOfWork(sessions, write=True):
        raise RuntimeError("a failed write gives the gate back too")
    assert (gate.entered, gate.held) == (2, 0)


def test_a_started_checkpointer_steps_by_itself(engine: Engine) -> None:
    """The one test on a real thread: a minute of margin for a loaded machine."""
    checkpointer = start_for(engine, WriteGate(), 10)
    assert checkpointer is not None
    try:
        _write(engine, 200, 1000)
        deadline = time.monotonic() + 60
        while _path(engine).stat().st_size < 150_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _path(engine).stat().st_size >= 150_000
    finally:
        checkpointer.stop()
