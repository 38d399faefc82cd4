"""`procflow serve --workers N`: N worker processes serving one listening socket.

The parent binds the socket (`cli.serving.listening_socket`), listens, and forks the
workers; each builds its own application, database pool and connection limits after the
fork and runs uvicorn on its inherited copy of the socket, so the kernel hands each new
connection to whichever worker accepts first. The parent then only supervises:

- a worker that dies (a crash, the out-of-memory killer) is replaced; one that dies within
  a second of its start is replaced a second later, so a worker that cannot start does not
  spin the machine;
- SIGTERM or SIGINT: the parent stops listening, passes SIGTERM to every worker (each
  stops accepting and gives its requests in progress `shutdown_timeout` seconds, as a
  single process does) and waits for them; a worker still alive
  `shutdown_timeout + KILL_GRACE_SECONDS` later is killed.

Signals reach the parent through `sigtimedwait` with those signals blocked, so no handler
runs between two system calls of the loop. The "serving" line is printed once every first
worker has said, through a pipe, that it accepts connections.
"""

import contextlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

WATCHED = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
KILL_GRACE_SECONDS = 5.0
QUICK_DEATH_SECONDS = 1.0
BACKLOG = 2048  # uvicorn's default


def note(message: str) -> None:
    sys.stderr.write(f"procflow: {message}\n")
    sys.stderr.flush()


@contextlib.contextmanager
def metrics_directory() -> Iterator[Path]:
    """PROMETHEUS_MULTIPROC_DIR for this run, set before any worker imports the metrics:
    the operator's (emptied of a previous run's files), or a temporary one removed at the
    end. Must be entered before `procflow.api` is imported."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="procflow-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    try:
        yield path
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(path, ignore_errors=True)


class Supervisor:
    def __init__(
        self,
        sock: socket.socket,
        workers: int,
        serve: Callable[[Callable[[], None]], None],
        shutdown_timeout: float,
    ) -> None:
        """`serve(on_ready)` runs in each worker: it serves on `sock` until told to stop."""
        self.sock = sock
        self.workers = workers
        self.serve = serve
        self.shutdown_timeout = shutdown_timeout
        self.started: dict[int, float] = {}  # pid -> when it was started
        self.ready_r, self.ready_w = os.pipe()
        os.set_blocking(self.ready_r, False)

    def run(self, on_ready: Callable[[], None]) -> None:
        """Start the workers, supervise them until SIGTERM or SIGINT, then drain them."""
        self.sock.listen(BACKLOG)
        signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
        try:
            for _ in range(self.workers):
                self._spawn()
            ready = 0
            while True:
                info = signal.sigtimedwait(WATCHED, 0.2)
                if ready < self.workers:
                    ready += self._ready_signals()
                    if ready >= self.workers:
                        on_ready()
                else:
                    self._ready_signals()
                if info is None:
                    continue
                if info.si_signo == signal.SIGCHLD:
                    self._reap(replace=True)
                else:
                    self._stop()
                    return
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, WATCHED)
            os.close(self.ready_r)
            os.close(self.ready_w)

    def _ready_signals(self) -> int:
        try:
            return len(os.read(self.ready_r, 4096))
        except BlockingIOError:
            return 0

    def _spawn(self) -> None:
        pid = os.fork()
        if pid:
            self.started[pid] = time.monotonic()
            return
        code = 1
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, WATCHED)
            os.close(self.ready_r)
            self.serve(lambda: _say_ready(self.ready_w))
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _reap(self, *, replace: bool) -> None:
        while self.started:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.started.clear()
                return
            if pid == 0:
                return
            began = self.started.pop(pid, None)
            if began is None:
                continue
            _forget_metrics_of(pid)
            if not replace:
                continue
            note(f"worker {pid} {_how_it_ended(status)}; starting another")
            if time.monotonic() - began < QUICK_DEATH_SECONDS:
                time.sleep(QUICK_DEATH_SECONDS)
            self._spawn()

    def _stop(self) -> None:
        self.sock.close()
        for pid in list(self.started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.shutdown_timeout + KILL_GRACE_SECONDS
        while self.started:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            signal.sigtimedwait({signal.SIGCHLD}, min(left, 0.5))
            self._reap(replace=False)
        for pid in list(self.started):
            note(f"worker {pid} did not stop in time: killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            _forget_metrics_of(pid)
        self.started.clear()


def _say_ready(pipe: int) -> None:
    os.write(pipe, b".")


def _how_it_ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was ended by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


def _forget_metrics_of(pid: int) -> None:
    """A dead worker's live gauges (pool use) no longer count."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
