"""Requests on PostgreSQL wait for the database on threads, not on the event loop.

procflow's use cases call the database synchronously. On SQLite that is the fast path (a
statement takes microseconds; a thread hand-off would cost more than it saves), but on
PostgreSQL every statement is a network round trip, and a server that waits for it on its
event loop serves one request at a time. `DatabaseThreads` gives each transactional
request (from its unit of work's start to its commit) to one of a fixed number of
threads, each running an event loop of its own: the request's coroutine runs there
unchanged, blocking only its thread while PostgreSQL answers, so that up to `size`
requests overlap their database waits within one worker process. Reading the body and
sending the response stay on the server's loop.

An async driver was the other way; it would have meant a second, awaitable copy of every
use case. Threads keep one copy, and the GIL is released during every round trip.
"""

import asyncio
import threading
from collections import deque
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class DatabaseThreads:
    """`size` threads, each with its own event loop; `run` waits for a free one."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("DatabaseThreads needs at least one thread")
        self.size = size
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._threads: list[threading.Thread] = []
        self._free: deque[asyncio.AbstractEventLoop] = deque()
        self._slots: asyncio.Semaphore | None = None
        for number in range(size):
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name=f"procflow-db-{number}", daemon=True
            )
            thread.start()
            self._loops.append(loop)
            self._threads.append(thread)
            self._free.append(loop)

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` to its end on a free thread's loop and return its result.

        Context variables (the request id of the log lines) travel with it. If the caller
        is cancelled (a drain past its timeout), the coroutine is cancelled at its next
        await, after the statement it is waiting for; its unit of work rolls back. Its
        thread may be handed the next request meanwhile, which then starts once the
        cancelled one has unwound.
        """
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        async with self._slots:
            loop = self._free.popleft()
            future = asyncio.run_coroutine_threadsafe(coroutine, loop)
            try:
                return await asyncio.wrap_future(future)
            finally:
                self._free.append(loop)

    def close(self) -> None:
        for loop in self._loops:
            loop.call_soon_threadsafe(loop.stop)
        for thread in self._threads:
            thread.join(timeout=5)
        for loop in self._loops:
            if not loop.is_running():
                loop.close()
