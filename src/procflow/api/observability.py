"""The outermost middleware: a request id for every request, and its metrics.

A client or a proxy may name its request with `X-Request-Id` (1 to 128 characters of
letters, digits and `-._:;=+/@`); anything else, or no header, gets an id of ours. The id
is returned in `X-Request-Id`, carried by every log line written for the request
(`procflow.logs`) and, with `access_log` on, by one line per request.

Pure ASGI, no `BaseHTTPMiddleware`: the run PUT must stay cheap. Our ids are a random
per-process prefix and a counter, unique across workers and nodes without a system call.
"""

import itertools
import logging
import os
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from procflow.api.metrics import RequestMetrics
from procflow.logs import REQUEST_ID

HEADER = b"x-request-id"
VALID_ID = re.compile(rb"[A-Za-z0-9\-._:;=+/@]{1,128}")

access = logging.getLogger("procflow.access")


class _Ids:
    """This process's prefix and counter; a forked child draws a prefix of its own."""

    def __init__(self) -> None:
        self.renew()

    def renew(self) -> None:
        self.prefix = os.urandom(6).hex()
        self.counter = itertools.count(1)


_ids = _Ids()
os.register_at_fork(after_in_child=_ids.renew)


class Observability:
    def __init__(self, app: ASGIApp, *, metrics: bool, access_log: bool) -> None:
        self.app = app
        self.metrics = RequestMetrics() if metrics else None
        self.access_log = access_log

    @staticmethod
    def new_id() -> str:
        return f"{_ids.prefix}-{next(_ids.counter):x}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = None
        for name, value in scope["headers"]:
            if name == HEADER:
                raw = value
                break
        request_id = raw.decode() if raw and VALID_ID.fullmatch(raw) else self.new_id()
        REQUEST_ID.set(request_id)  # this request's task has a context of its own
        header = (HEADER, request_id.encode())
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.record(scope, status, seconds)
            if self.access_log:
                self._log(scope, status, seconds, request_id)

    @staticmethod
    def _log(scope: Scope, status: int, seconds: float, request_id: str) -> None:
        route = scope.get("route")
        access.info(
            "%s %s %d",
            scope["method"],
            scope["path"],
            status,
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "route": getattr(route, "path", None),
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "client": (scope.get("client") or ("",))[0],
                "request_id": request_id,
            },
        )
