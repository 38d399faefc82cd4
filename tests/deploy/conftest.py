"""Real `procflow serve` processes, as a deployment runs them: several workers, a signal
from the process supervisor, writers that do not stop for a backup.

Servers come from the stress harness (`tests.stress.harness.Server`), configured through
the environment exactly as an operator would (`PROCFLOW_WORKERS`, ...).
"""

import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tests.stress.harness import Api, Org, Server

WAIT_SECONDS = 120.0
# Writers queue on the database's lock; on a loaded machine they wait as long as it takes
# instead of answering 503 after the default 5 s.
PATIENT = {"PROCFLOW_LOCK_TIMEOUT_MS": "300000"}


def children_of(pid: int) -> set[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Until `condition()` holds; fails only past a deadline no healthy run comes near."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {WAIT_SECONDS} s")
        time.sleep(0.05)


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return False
    except OSError:
        return True


class Writers:
    """Threads that create tags until stopped, each keeping the ids of the tags whose
    creation was acknowledged, and every other answer."""

    def __init__(self, server: Server, org: Org, threads: int, per_thread: int | None) -> None:
        self.acked: list[str] = []
        self.failures: list[str] = []
        self.lock = threading.Condition()
        self.stopping = threading.Event()
        self.endless = per_thread is None
        self.name = uuid.uuid4().hex[:8]
        self.threads = [
            threading.Thread(target=self._write, args=(server, org, n, per_thread))
            for n in range(threads)
        ]

    def _write(self, server: Server, org: Org, number: int, count: int | None) -> None:
        with Api(server, org) as api:
            made = 0
            while not self.stopping.is_set() and (count is None or made < count):
                title = f"{self.name}-{number}-{made}"
                answer = api.request("POST", "/tags", {"title": title})
                with self.lock:
                    if answer.status_code == 201:
                        self.acked.append(str(answer.json()["data"]["id"]))
                    else:
                        self.failures.append(f"{answer.status_code} {answer.text[:200]}")
                    self.lock.notify_all()
                made += 1

    def start(self) -> "Writers":
        for thread in self.threads:
            thread.start()
        return self

    def wait_for_acks(self, count: int) -> list[str]:
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.acked) >= count, WAIT_SECONDS)
            return list(self.acked)

    def finish(self) -> None:
        """Stop writers that run until stopped; wait for counted ones to finish."""
        if self.endless:
            self.stopping.set()
        for thread in self.threads:
            thread.join()


def writers(server: Server, org: Org, threads: int, per_thread: int | None = None) -> Writers:
    return Writers(server, org, threads, per_thread).start()
