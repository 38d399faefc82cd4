"""The write gate: a checkpointer's moment between two write transactions."""

import threading


class WriteGate:
    """Held by every write transaction (`UnitOfWork`) and by a checkpointer while it
    copies the WAL's last frames, so that the next writer can start the WAL over.

    A gate held longer than `timeout_s` is passed by: waiting only makes the WAL start
    over sooner, and writes are as safe without it. Re-entrant: a write transaction
    opened inside another one passes its own gate."""

    def __init__(self, timeout_s: float = 5.0) -> None:
        self.timeout_s = timeout_s
        self._lock = threading.RLock()

    def enter(self) -> bool:
        """Take the gate; False when it stayed held past the timeout (then do not leave)."""
        return self._lock.acquire(timeout=self.timeout_s)

    def leave(self) -> None:
        self._lock.release()
