"""The journal: `GET/DELETE /_sandbox/requests`, every API request the sandbox answered.

Each entry holds the method, path, query, status, request and response headers and bodies
(the first `BODY_CAP` bytes of each), the time on the sandbox clock, how long the answer
took, who called (the member or guest the token speaks for), which fault, if any,
answered, and the answer's `X-Request-Id` (the id procflow's log lines carry). Secrets
are masked before anything is stored (see `masking`). The journal is a ring of `CAPACITY`
entries, so its memory is bounded however long the sandbox runs.
Control routes, probes and the documentation pages are not journaled.
"""

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Query, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from procflow.api.deferred_routes import DeferredRoute
from procflow.api.problems import BadRequest
from procflow.domain.timeutil import CLOCK, format_ts
from procflow.sandbox.masking import (
    bearer_of,
    mask_headers,
    mask_json,
    mask_query,
    mask_text,
    mask_token,
)
from procflow.sandbox.patterns import BadPattern, compile_pattern, is_control, path_matches

log = logging.getLogger("procflow.sandbox.journal")

CAPACITY = 1000
BODY_CAP = 8 * 1024
UNJOURNALED = frozenset({"/health", "/healthz", "/readyz", "/metrics", "/openapi.json"})
UNJOURNALED_PREFIXES = ("/docs", "/redoc")


@dataclass
class Journal:
    capacity: int = CAPACITY
    entries: deque[dict[str, Any]] = field(default_factory=deque)
    seen: int = 0
    dropped: int = 0  # pushed out of the ring since the last clear

    def add(self, entry: dict[str, Any]) -> None:
        self.seen += 1
        entry["id"] = self.seen
        self.entries.append(entry)
        while len(self.entries) > self.capacity:
            self.entries.popleft()
            self.dropped += 1

    def clear(self) -> None:
        self.entries.clear()
        self.dropped = 0


JOURNAL = Journal()


def journaled(path: str) -> bool:
    return not (is_control(path) or path in UNJOURNALED or path.startswith(UNJOURNALED_PREFIXES))


class Capture:
    """The first `cap` bytes of a body, and whether there was more."""

    def __init__(self, cap: int = BODY_CAP) -> None:
        self.cap = cap
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        if self.size < self.cap:
            self.chunks.append(chunk[: self.cap - self.size])
        self.size += len(chunk)

    def shown(self, content_type: str, known: tuple[str, ...]) -> dict[str, Any]:
        raw = b"".join(self.chunks)
        body: Any = None
        if raw and self.size <= self.cap and "json" in content_type:
            try:
                body = mask_json(orjson.loads(raw), known)
            except orjson.JSONDecodeError:
                body = None
        if body is None and raw:
            body = mask_text(raw.decode("utf-8", "replace"), known)
        return {"body": body, "size": self.size, "truncated": self.size > self.cap}


class JournalMiddleware:
    """Records every journaled request once its answer is complete."""

    def __init__(self, app: ASGIApp, journal: Journal = JOURNAL) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not journaled(scope["path"]):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        asked, answered = Capture(), Capture()
        reply: dict[str, Any] = {"status": None, "headers": []}
        started = time.perf_counter()

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                asked.add(message.get("body", b""))
            return message

        async def send_and_keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                reply["status"] = message["status"]
                reply["headers"] = list(message.get("headers", ()))
            elif message["type"] == "http.response.body":
                answered.add(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_and_keep, send_and_keep)
        finally:
            seconds = time.perf_counter() - started
            try:
                self.journal.add(entry(scope, state, asked, answered, reply, seconds))
            except Exception:  # the journal must never break the request it records
                log.exception("request not journaled")


def entry(
    scope: Scope,
    state: dict[str, Any],
    asked: Capture,
    answered: Capture,
    reply: dict[str, Any],
    seconds: float,
) -> dict[str, Any]:
    token = bearer_of(scope["headers"])
    known = (token,) if token else ()
    request_headers = mask_headers(scope["headers"], known)
    response_headers = mask_headers(reply["headers"], known)
    return {
        "at": format_ts(CLOCK.now()),
        "method": scope["method"],
        "path": mask_text(scope["path"], known),
        "query": mask_query(scope["query_string"].decode("latin-1"), known),
        "status": reply["status"],
        "duration_ms": round(seconds * 1000, 3),
        "caller": caller_of(state),
        "token": mask_token(token) if token else None,
        "fault": state.get("sandbox_fault"),
        "request_id": response_headers.get("x-request-id"),
        "request": {
            "headers": request_headers,
            **asked.shown(request_headers.get("content-type", ""), known),
        },
        "response": {
            "headers": response_headers,
            **answered.shown(response_headers.get("content-type", ""), known),
        },
    }


def caller_of(state: dict[str, Any]) -> dict[str, Any] | None:
    """Who the request's token spoke for, as the API's dependencies found out."""
    caller = state.get("caller")
    if caller is not None:
        user_id = getattr(caller, "user_id", None)
        if user_id is not None:
            role = getattr(caller, "role", None)
            return {"user_id": user_id, "org_id": caller.org_id, "role": str(role)}
        return {"guest_id": caller.guest_id, "email": caller.email, "org_id": caller.org_id}
    if state.get("user_id") is not None:
        return {"user_id": state["user_id"]}
    return None


def status_wanted(status: str | None) -> Any:
    """`404` or a class such as `4xx`; BadRequest otherwise."""
    if status is None:
        return lambda _code: True
    text = status.strip().lower()
    if len(text) == 3 and text[0] in "12345" and text[1:] == "xx":
        return lambda code: code is not None and code // 100 == int(text[0])
    if text.isdigit() and len(text) == 3:
        return lambda code: code == int(text)
    raise BadRequest("'status' is a status code such as 429 or a class such as 5xx.")


router = APIRouter(
    prefix="/_sandbox", tags=["sandbox"], include_in_schema=False, route_class=DeferredRoute
)


@router.get("/requests", summary="The requests the sandbox answered, oldest first")
async def list_requests(
    path: Annotated[str | None, Query(max_length=500)] = None,
    status: Annotated[str | None, Query(max_length=3)] = None,
    method: Annotated[str | None, Query(max_length=10)] = None,
) -> dict[str, Any]:
    if path is not None:
        try:
            compile_pattern(path)
        except BadPattern as exc:
            raise BadRequest(str(exc)) from None
    wanted = status_wanted(status)
    found = [
        item
        for item in JOURNAL.entries
        if (path is None or path_matches(path, item["path"]))
        and wanted(item["status"])
        and (method is None or item["method"] == method.upper())
    ]
    meta = {"total": len(found), "capacity": JOURNAL.capacity, "dropped": JOURNAL.dropped}
    return {"data": found, "meta": meta}


@router.delete("/requests", status_code=204, summary="Empty the journal")
async def clear_requests() -> Response:
    JOURNAL.clear()
    return Response(status_code=204)


def reset_journal(_app: FastAPI) -> None:
    """A reset hook: a reset starts an empty journal."""
    JOURNAL.clear()
