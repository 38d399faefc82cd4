"""`procflow db backup` while a real server takes writes, and `procflow db restore`.

The restored database must pass SQLite's integrity check and hold every write that the
server acknowledged before the backup began; writes acknowledged meanwhile may or may not
be in it. The writers never pause, so the backup is read while they commit.
"""

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import PATIENT, writers
from tests.stress.harness import PROCFLOW, Server, bootstrap, database_kind

pytestmark = pytest.mark.skipif(
    database_kind() != "sqlite", reason="SQLite's backup; PostgreSQL's is pg_dump"
)


def procflow(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROCFLOW_DATABASE_URL": f"sqlite:///{database}"}
    return subprocess.run(
        [str(PROCFLOW), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_a_backup_under_writes_restores_every_acknowledged_write(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    server = Server(f"sqlite:///{live}", tmp_path, PATIENT)
    server.start()
    try:
        org = bootstrap(server)
        load = writers(server, org, threads=4)
        try:
            before = set(load.wait_for_acks(40))
            backed_up = procflow(live, "db", "backup", str(tmp_path / "copy.db"))
            load.wait_for_acks(len(before) + 20)  # the writers went on after it, too
        finally:
            load.finish()
    finally:
        server.stop()
    assert backed_up.returncode == 0, backed_up.stderr
    assert "integrity ok" in backed_up.stdout
    assert not load.failures, load.failures[:5]
    assert not (tmp_path / "copy.db-wal").exists()

    restored = tmp_path / "restored.db"
    done = procflow(restored, "db", "restore", str(tmp_path / "copy.db"))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(restored) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        held = {row[0] for row in db.execute("SELECT id FROM tag WHERE org_id = ?", [org.org_id])}
    assert before <= held
    assert held <= set(load.acked)


def test_restore_refuses_what_is_not_a_procflow_backup(tmp_path: Path) -> None:
    stranger = tmp_path / "other.db"
    with sqlite3.connect(stranger) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    done = procflow(tmp_path / "target.db", "db", "restore", str(stranger))
    assert done.returncode == 1
    assert "not a procflow database" in done.stderr
    assert not (tmp_path / "target.db").exists()
    missing = procflow(tmp_path / "absent.db", "db", "backup", str(tmp_path / "b.db"))
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr
