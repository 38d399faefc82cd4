"""Requests to procflow's own API from inside the process, without a socket.

Seeding and export go through the same routes a client would use, so a seeded template
or run is exactly what the API would have made of the same requests, checked by the same
rules, and refused with the same per-field errors. They are sent to an application of
their own (no sandbox middleware: seeding is neither journaled nor faulted, and never rate
limited), on the sandbox's database.
"""

from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.types import ASGIApp, Message


class Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.data: Any = orjson.loads(body) if body else None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Client:
    """Calls `app` as `token`'s owner; paths are relative to the organization."""

    def __init__(self, app: ASGIApp, org_id: str, token: str) -> None:
        self.app = app
        self.prefix = f"/organizations/{org_id}"
        self.token = token

    async def call(
        self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None
    ) -> Answer:
        raw = b"" if body is None else orjson.dumps(body)
        full = self.prefix + path
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": full,
            "raw_path": full.encode(),
            "query_string": urlencode(query or {}).encode(),
            "root_path": "",
            "headers": [
                (b"host", b"sandbox"),
                (b"authorization", f"Bearer {self.token}".encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ],
            "client": ("127.0.0.1", 0),
            "server": ("sandbox", 80),
            "state": {},
        }
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": raw, "more_body": False}

        status = 500
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return Answer(status, b"".join(chunks))

    async def get(self, path: str, **query: Any) -> Answer:
        return await self.call("GET", path, query=query)

    async def post(self, path: str, body: Any) -> Answer:
        return await self.call("POST", path, body)

    async def put(self, path: str, body: Any) -> Answer:
        return await self.call("PUT", path, body)
