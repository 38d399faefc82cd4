"""The SQLite backup and restore behind `procflow db backup` / `db restore`, in process.

`tests/deploy/test_backup.py` takes a backup under a real server's writes; these check the
edges: what is refused, and that nothing is left half-written.
"""

import sqlite3
from pathlib import Path

import pytest

from procflow.settings import Settings
from procflow.storage.database import make_engine
from procflow.storage.migrate import upgrade
from procflow.storage.sqlite.backup import BackupFailed, backup, database_path, restore


def migrated(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(Settings(database_url=url))
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return url


def test_backup_then_restore(tmp_path: Path) -> None:
    url = migrated(tmp_path / "live.db")
    with sqlite3.connect(tmp_path / "live.db") as db:
        db.execute(
            "INSERT INTO user_account (id, email, created_at) VALUES (7, 'a@b.c', '2026-01-01')"
        )
    size = backup(url, tmp_path / "copy.db", 1000)
    assert size == (tmp_path / "copy.db").stat().st_size
    assert not (tmp_path / "copy.db.partial").exists()
    restore(tmp_path / "copy.db", f"sqlite:///{tmp_path / 'restored.db'}", 1000)
    with sqlite3.connect(tmp_path / "restored.db") as db:
        assert db.execute("SELECT email FROM user_account WHERE id = 7").fetchone() == ("a@b.c",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_what_cannot_be_backed_up_or_restored(tmp_path: Path) -> None:
    with pytest.raises(BackupFailed, match="in-memory"):
        database_path("sqlite://")
    with pytest.raises(BackupFailed, match="does not exist"):
        backup(f"sqlite:///{tmp_path / 'absent.db'}", tmp_path / "copy.db", 1000)
    with pytest.raises(BackupFailed, match="does not exist"):
        restore(tmp_path / "absent.db", f"sqlite:///{tmp_path / 'x.db'}", 1000)
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupFailed, match="not a SQLite database"):
        restore(tmp_path / "junk.db", f"sqlite:///{tmp_path / 'x.db'}", 1000)
    with sqlite3.connect(tmp_path / "plain.db") as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(BackupFailed, match="not a procflow database"):
        backup(f"sqlite:///{tmp_path / 'plain.db'}", tmp_path / "copy.db", 1000)
    assert not (tmp_path / "copy.db").exists()
    assert not (tmp_path / "x.db").exists()
