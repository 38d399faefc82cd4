"""ASGI middleware: a request body must arrive within `body_read_timeout_seconds` of the
request's start, and a connection whose request body was not read to its end is closed.

uvicorn waits for a body as long as its client keeps the connection open, so a client
that sends a body slowly (or declares one and never sends it) would hold the request, its
connection and its share of the server for free. Past the deadline, reading the body
raises `RequestTimeout` (408 in Tallyfy's error shape, nothing applied). Whenever an
answer starts before the request's body was read to its end (that 408, or an answer that
never needed the body, such as a 404 or a 429), it carries `Connection: close`, so the
server closes the connection after it instead of draining a body that may never end.
"""

import asyncio
from typing import Any

from procflow.api.problems import RequestTimeout

Message = dict[str, Any]


def _declares_body(scope: dict[str, Any]) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


class BodyDeadline:
    def __init__(self, app: Any, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _declares_body(scope):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        read = False

        async def timed_receive() -> Message:
            nonlocal read
            if read:
                message: Message = await receive()
                return message
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(self.seconds) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                read = True
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not read:
                headers = [*message.get("headers", ()), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, timed_receive, closing_send)
