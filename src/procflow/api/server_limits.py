"""What a slow or greedy client may hold of the server: uvicorn's options and a guard on
its HTTP protocol.

uvicorn closes idle keep-alive connections (`timeout_keep_alive`) and can refuse work past
a number of connections (`limit_concurrency`), but it never times out a request head that
arrives slowly: a client that opens connections and sends a byte now and then holds each
one for good. `guarded_protocol` adds, to whichever uvicorn protocol class is served:

- a deadline for each request head (from its first byte, or from the connection's
  opening, to the end of its headers): past it the answer is 408 and the connection
  closes; the body's own deadline is `procflow.api.body_deadline`, in the app;
- a cap on the bytes of a request head (431), for the parser that has none (h11's is
  `h11_max_incomplete_event_size`);
- a ceiling on the connections one client address holds at once: the next one gets a 503
  with `Retry-After` and is closed.
"""

import asyncio
from collections import Counter
from typing import Any, ClassVar

from procflow.settings import Settings


def _raw_answer(status: str, code: str, message: str, extra: str = "") -> bytes:
    """A whole HTTP/1.1 answer in Tallyfy's error shape, written before the connection closes."""
    body = f'{{"error":true,"message":"{message}","code":"{code}"}}'
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n{extra}\r\n"
    )
    return (head + body).encode("ascii")


HEAD_TIMEOUT = _raw_answer(
    "408 Request Timeout", "REQUEST_TIMEOUT", "The request head took too long to arrive."
)
HEAD_TOO_LARGE = _raw_answer(
    "431 Request Header Fields Too Large",
    "REQUEST_HEADER_FIELDS_TOO_LARGE",
    "The request head is too large.",
)
TOO_MANY_CONNECTIONS = _raw_answer(
    "503 Service Unavailable",
    "SERVICE_UNAVAILABLE",
    "Too many connections from this address.",
    "retry-after: 1\r\n",
)


class ReadDeadlines(asyncio.Protocol):
    """The guard, mixed in before a uvicorn HTTP protocol class (see `guarded_protocol`)."""

    head_timeout: ClassVar[float] = 10.0
    max_head_bytes: ClassVar[int] = 64 * 1024
    per_client: ClassVar[int] = 0
    open_by_client: ClassVar[Counter[str]]
    # Set by uvicorn's protocol classes.
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._counted: str | None = None
        peer = transport.get_extra_info("peername")
        host = peer[0] if isinstance(peer, tuple) and peer else None
        if self.per_client and isinstance(host, str):
            if self.open_by_client[host] >= self.per_client:
                self._refuse(TOO_MANY_CONNECTIONS)
                return
            self.open_by_client[host] += 1
            self._counted = host
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._counted is not None:
            self.open_by_client[self._counted] -= 1
            if self.open_by_client[self._counted] <= 0:
                del self.open_by_client[self._counted]
            self._counted = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        before = self.cycle
        if self._deadline is None and (before is None or not before.more_body):
            self._head_bytes = 0  # the first bytes of a new request's head
            self._arm()
        super().data_received(data)
        if self.cycle is not before and self.cycle is not None:
            self._disarm()  # its head is complete: the app has the request
        elif self._deadline is not None:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse(HEAD_TOO_LARGE)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.head_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        cycle = self.cycle
        if cycle is not None and not cycle.more_body and not cycle.response_complete:
            self._arm()  # the server is still answering the request before this one
            return
        self._refuse(HEAD_TIMEOUT)

    def _refuse(self, answer: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()


def protocol_class(http: Any) -> type[asyncio.Protocol]:
    """A uvicorn `http` option (a class, or a name such as "h11") as its class."""
    if isinstance(http, type):
        return http
    from uvicorn.config import HTTP_PROTOCOLS
    from uvicorn.importer import import_from_string

    found: type[asyncio.Protocol] = import_from_string(HTTP_PROTOCOLS.get(http, http))
    return found


def guarded_protocol(http: Any, settings: Settings) -> type[asyncio.Protocol]:
    """`http` (a uvicorn protocol class or name) with `ReadDeadlines` mixed in."""
    base = protocol_class(http)
    attributes = {
        "head_timeout": settings.header_read_timeout_seconds,
        "max_head_bytes": settings.max_header_bytes,
        "per_client": settings.max_connections_per_client,
        "open_by_client": Counter(),
    }
    return type(f"Guarded{base.__name__}", (ReadDeadlines, base), attributes)


def server_limits(settings: Settings, http: Any) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run`: the guarded protocol and uvicorn's own limits."""
    return {
        "http": guarded_protocol(http, settings),
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
        "limit_concurrency": settings.max_connections or None,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }
