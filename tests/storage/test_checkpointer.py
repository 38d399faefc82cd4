"""SQLite's WAL is checkpointed by a background thread, not inside requests.

The benchmark shows what it is for (BENCHMARKS.md); these show that it works."""

import time
from pathlib import Path

from sqlalchemy import text

from procflow.settings import Settings
from procflow.storage.database import Checkpointer, make_engine


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
