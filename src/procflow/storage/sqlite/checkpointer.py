"""WAL checkpoints of a SQLite file, off the request path.

By default SQLite runs a checkpoint inside whichever COMMIT grows the WAL past 1,000
pages, which under load (about seven pages per run update) stalls the event loop for
5-15 ms every 150 writes. A server hands that work to a `Checkpointer` instead.
"""

import os
import sqlite3
import threading
from contextlib import suppress
from typing import Any

from sqlalchemy import Engine, event

from procflow.storage.sqlite.gate import WriteGate


class Checkpointer:
    """Checkpoints a SQLite file's WAL, one `step()` at a time.

    A server runs the steps on a background thread, every `interval` seconds (`start`);
    tests call `step()` themselves. PASSIVE checkpoints never block readers or writers,
    and `sqlite3` releases the GIL while one runs, so the copy and its fsyncs happen
    beside the event loop instead of inside a request.

    A step also starts the WAL over. SQLite does that only when a writer begins with
    every frame copied into the database file and that file synced; under steady writes
    a PASSIVE checkpoint never gets there (frames arrive while it copies), and it never
    syncs the database file either, so the kernel holds seconds of its writes. Left
    alone, the WAL would grow until a COMMIT crossed SQLite's own threshold and did the
    rest inline, syncing all of those writes on the event loop (330 ms, measured). Past
    `restart_pages` a step syncs the database file itself, catches up, and copies the
    last frames while it holds the write gate, which every write transaction takes
    (`UnitOfWork`): writers wait only for that last copy and its two fsyncs, a few
    milliseconds. Request connections keep SQLite's inline checkpoint as a safety net,
    at `FALLBACK_PAGES`. When a reader elsewhere (another process) keeps the WAL from
    being copied to its end, the next restart is tried only after a quarter more pages.
    """

    RESTART_PAGES = 20_000
    FALLBACK_PAGES = 40_000

    def __init__(
        self, engine: Engine, gate: WriteGate, *, restart_pages: int = RESTART_PAGES
    ) -> None:
        self.gate = gate
        self.restart_pages = restart_pages
        self._engine = engine
        self._path = engine.url.database or ""
        self._restart_at = restart_pages
        self._connection: sqlite3.Connection | None = None
        self._database_file: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        event.listen(engine, "connect", self._keep_inline_as_fallback)
        engine.pool.dispose()  # connections opened before now keep SQLite's default

    @staticmethod
    def applies(engine: Engine) -> bool:
        """Only a file-backed SQLite database has a WAL to checkpoint."""
        return engine.dialect.name == "sqlite" and engine.url.database not in (
            None,
            "",
            ":memory:",
        )

    def _keep_inline_as_fallback(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={self.FALLBACK_PAGES}")

    def step(self) -> None:
        """One round: checkpoint, and start the WAL over when it has grown long. A busy
        or vanished file is left for the next step."""
        with suppress(sqlite3.Error, OSError):
            self._round(*self._opened())

    def _opened(self) -> tuple[sqlite3.Connection, int]:
        if self._connection is None:
            self._connection = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False
            )
        if self._database_file is None:
            self._database_file = os.open(self._path, os.O_RDONLY)
        return self._connection, self._database_file

    def _round(self, connection: sqlite3.Connection, database_file: int) -> None:
        frames, _ = _checkpoint(connection)
        if frames < self.restart_pages:
            self._restart_at = self.restart_pages  # the WAL started over
            return
        if frames < self._restart_at:
            return
        _sync(database_file)
        _checkpoint(connection)
        _sync(database_file)
        if not self.gate.enter():
            return
        try:
            frames, copied = _checkpoint(connection)  # to the end: the next writer restarts
        finally:
            self.gate.leave()
        if copied < frames:
            self._restart_at = frames + self.restart_pages // 4

    def start(self, interval: float) -> None:
        """Run `step` every `interval` seconds on a background thread, until `stop`."""
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.step()

    def stop(self) -> None:
        """Stop the thread (if started), close the checkpoint connection, and let new
        request connections keep SQLite's own checkpoint threshold."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._database_file is not None:
            os.close(self._database_file)
            self._database_file = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        event.remove(self._engine, "connect", self._keep_inline_as_fallback)


def start_for(engine: Engine, gate: WriteGate, interval_ms: int) -> Checkpointer | None:
    """A running checkpointer for a file-backed SQLite engine, else None."""
    if interval_ms <= 0 or not Checkpointer.applies(engine):
        return None
    checkpointer = Checkpointer(engine, gate)
    checkpointer.start(interval_ms / 1000)
    return checkpointer


def _checkpoint(connection: sqlite3.Connection) -> tuple[int, int]:
    """A PASSIVE checkpoint: the frames in the WAL, and how many of them are copied."""
    _, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(frames), int(copied)


_sync = getattr(os, "fdatasync", os.fsync)
