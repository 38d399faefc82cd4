"""Copies of a SQLite database taken, and put back, while servers use it.

Both directions use SQLite's online backup API in one step: the copy is read in a single
read transaction, so it is the database exactly as it stood at one moment (every
transaction committed before it began, none that commits meanwhile), and in WAL mode the
servers' writers go on while it is read. A backup is written beside its target and
renamed into place once complete and checked, so a failed backup never leaves half a file
under the name an operator will restore from; it is a single file (no `-wal` beside it).

A restore replaces the content of the database in one write transaction of the backup
API; servers' connections see either the old or the restored database, never a mix.
"""

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupFailed(Exception):
    """The copy could not be made or used; the message says why."""


def database_path(url: str) -> Path:
    """The file of a `sqlite:///...` URL (a memory database has none)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupFailed("an in-memory SQLite database has no file to back up")
    return Path(database)


def _check(connection: sqlite3.Connection, what: str) -> None:
    found = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    if found != ["ok"]:
        raise BackupFailed(f"{what} fails SQLite's integrity check: {'; '.join(found[:3])}")
    tables = connection.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()[0]
    if not tables:
        raise BackupFailed(f"{what} is not a procflow database (it has no alembic_version)")


def backup(url: str, target: Path, busy_timeout_ms: int) -> int:
    """Copy the database at `url` to `target`; return the copy's size in bytes."""
    source_path = database_path(url)
    if not source_path.is_file():
        raise BackupFailed(f"{source_path} does not exist")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=busy_timeout_ms / 1000)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)  # pages=-1: the whole database in one step, one snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        _check(copy, "the copy")
    except sqlite3.Error as error:
        raise BackupFailed(f"the backup failed: {error}") from error
    finally:
        copy.close()
        source.close()
    try:
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def restore(source_file: Path, url: str, busy_timeout_ms: int) -> None:
    """Replace the content of the database at `url` by the backup `source_file`."""
    if not source_file.is_file():
        raise BackupFailed(f"{source_file} does not exist")
    target_path = database_path(url)
    source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
    try:
        _check(source, str(source_file))  # before the target is opened, let alone changed
    except sqlite3.Error as error:
        source.close()
        raise BackupFailed(f"{source_file} is not a SQLite database: {error}") from error
    except BackupFailed:
        source.close()
        raise
    target = sqlite3.connect(target_path, timeout=busy_timeout_ms / 1000)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
        _check(target, "the restored database")
    except sqlite3.Error as error:
        raise BackupFailed(f"the restore failed: {error}") from error
    finally:
        target.close()
        source.close()
