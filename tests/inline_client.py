"""A TestClient whose requests run the app in the calling thread's own event loop.

Starlette's TestClient hands every request to an event loop in another thread and crosses
between the two threads about eight times per request (creating its events and streams,
starting the app, waiting for the answer, reading each body chunk). On two loaded cores
those crossings cost more than many requests themselves. Here the app runs in an event loop
kept by the calling thread, and the request's messages pass without crossing a thread; the
app, its lifespan (run by Starlette's own machinery on entering the client), its middleware
and its thread pool for sync routes are the same. What a test sees is the same response:
status, headers, body, and the 500 of an unhandled error when `raise_server_exceptions` is
off.
"""

import asyncio
import threading
from typing import Any
from urllib.parse import unquote

import httpx2 as httpx
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message


class _ThreadLoops(threading.local):
    """One event loop per thread that sends requests (some tests send from threads of
    their own to check concurrent requests); all are closed with the client."""

    loop: asyncio.AbstractEventLoop | None = None


class InlineTransport(httpx.BaseTransport):
    def __init__(
        self,
        app: ASGIApp,
        *,
        raise_server_exceptions: bool,
        app_state: dict[str, Any],
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self.app_state = app_state
        self.client = client
        self._loops = _ThreadLoops()
        self._all_loops: list[asyncio.AbstractEventLoop] = []
        self._lock = threading.Lock()

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loops.loop
        if loop is None or loop.is_closed():
            loop = asyncio.new_event_loop()
            self._loops.loop = loop
            with self._lock:
                self._all_loops.append(loop)
        return loop

    def close(self) -> None:
        with self._lock:
            loops, self._all_loops = self._all_loops, []
        for loop in loops:
            if not loop.is_closed():
                loop.run_until_complete(loop.shutdown_default_executor())
                loop.close()

    def _scope(self, request: httpx.Request) -> dict[str, Any]:
        url = request.url
        port = url.port or {"http": 80, "https": 443}[url.scheme]
        headers = [] if "host" in request.headers else [(b"host", url.netloc)]
        headers += [(k.lower().encode(), v.encode()) for k, v in request.headers.multi_items()]
        return {
            "type": "http",
            "http_version": "1.1",
            "method": request.method,
            "path": unquote(url.path),
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "root_path": "",
            "scheme": url.scheme,
            "query_string": url.query,
            "headers": headers,
            "client": self.client,
            "server": [url.raw_host.decode("ascii"), port],
            "extensions": {"http.response.debug": {}, "http.response.trailers": {}},
            "state": self.app_state.copy(),
        }

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scope = self._scope(request)
        body = request.read()
        start: Message | None = None
        chunks: list[bytes] = []

        async def exchange() -> None:
            complete = asyncio.Event()
            request_sent = False

            async def receive() -> Message:
                nonlocal request_sent
                if request_sent:
                    await complete.wait()
                    return {"type": "http.disconnect"}
                request_sent = True
                return {"type": "http.request", "body": body}

            async def send(message: Message) -> None:
                nonlocal start
                if message["type"] == "http.response.start":
                    assert start is None, 'Received multiple "http.response.start" messages.'
                    start = message
                elif message["type"] == "http.response.body":
                    assert start is not None, "Received a body before the response started."
                    chunks.append(bytes(message.get("body", b"")))
                    if not message.get("more_body", False):
                        complete.set()

            try:
                await self.app(scope, receive, send)
            finally:
                complete.set()

        try:
            self._loop().run_until_complete(exchange())
        except Exception:
            if self.raise_server_exceptions:
                raise
        if start is None:
            if self.raise_server_exceptions:
                raise AssertionError("TestClient did not receive any response.")
            return httpx.Response(500, stream=httpx.ByteStream(b""), request=request)
        content = b"" if request.method == "HEAD" else b"".join(chunks)
        return httpx.Response(
            start["status"],
            headers=[(k.decode(), v.decode()) for k, v in start.get("headers", [])],
            stream=httpx.ByteStream(content),
            request=request,
        )


class InlineClient(TestClient):
    """`TestClient` with `InlineTransport`: the same app and lifespan, no thread crossing
    per request."""

    __test__ = False

    def __init__(self, app: ASGIApp, *, raise_server_exceptions: bool = True) -> None:
        super().__init__(app, raise_server_exceptions=raise_server_exceptions)
        self._transport = InlineTransport(
            self.app, raise_server_exceptions=raise_server_exceptions, app_state=self.app_state
        )
