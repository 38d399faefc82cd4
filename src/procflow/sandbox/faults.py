"""Injected faults: `POST/GET/DELETE /_sandbox/faults` and the middleware that applies them.

A fault names a method and a path pattern; the next matching requests get its answer (or
its delay) instead of reaching the API, so nothing they ask for is applied, exactly like a
real 429 or 503. `times` counts down (absent: until the faults are cleared); faults are
tried in the order they were added and the first match wins. Control routes are never
faulted. The middleware exists only in sandbox mode: a normal server has none of this.
"""

import asyncio
from dataclasses import asdict, dataclass
from itertools import count
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.types import ASGIApp, Receive, Scope, Send

from procflow.api.deferred_routes import DeferredRoute
from procflow.api.responses import JsonResponse
from procflow.errors import ValidationFailed
from procflow.sandbox.fault_answers import answer
from procflow.sandbox.patterns import compile_pattern, is_control, path_matches
from procflow.sandbox.requests_in import read_body

MAX_FAULTS = 100


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    method: str = Field(default="*", pattern=r"^(\*|[A-Za-z]{3,7})$")
    path: str = Field(max_length=500)
    status: int | None = Field(default=None, ge=400, le=599)
    body: dict[str, Any] | str | None = None
    delay_ms: int = Field(default=0, ge=0, le=60_000)
    times: int | None = Field(default=None, ge=1, le=1_000_000)
    rate_limit: bool = False
    retry_after: int = Field(default=1, ge=0, le=3600)

    @field_validator("path")
    @classmethod
    def _pattern(cls, value: str) -> str:
        compile_pattern(value)  # BadPattern is a ValueError: its message is the error
        return value

    @model_validator(mode="after")
    def _does_something(self) -> "FaultSpec":
        if self.rate_limit and self.status not in (None, 429):
            raise ValueError("A rate_limit fault answers 429: leave 'status' out or give 429.")
        if self.status is None and not self.rate_limit and not self.delay_ms:
            raise ValueError("Give a 'status', 'rate_limit': true or a 'delay_ms'.")
        return self


@dataclass
class Fault:
    id: int
    method: str
    path: str
    status: int | None
    body: dict[str, Any] | str | None
    delay_ms: int
    times: int | None
    rate_limit: bool
    retry_after: int
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and path_matches(self.path, path)


class FaultBook:
    """The faults in force, in the order they were added."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._ids = count(1)

    def add(self, spec: FaultSpec) -> Fault:
        status = 429 if spec.rate_limit else spec.status
        fault = Fault(
            next(self._ids), spec.method.upper(), spec.path, status, spec.body,
            spec.delay_ms, spec.times, spec.rate_limit, spec.retry_after,
        )  # fmt: skip
        self.faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, counted down (and dropped once spent)."""
        for fault in self.faults:
            if fault.matches(method, path):
                fault.hits += 1
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()


FAULTS = FaultBook()


class FaultMiddleware:
    """Answers a faulted request before it reaches anything else (rate limits included)."""

    def __init__(self, app: ASGIApp, book: FaultBook = FAULTS) -> None:
        self.app = app
        self.book = book

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.book.faults or is_control(scope["path"]):
            await self.app(scope, receive, send)
            return
        fault = self.book.take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["sandbox_fault"] = fault.id
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault.status is None:
            await self.app(scope, receive, send)
            return
        await drain(receive)  # read, so that the journal shows what the client sent
        body, headers = answer(fault.status, fault.body, fault.retry_after, fault.rate_limit)
        await JsonResponse(body, status_code=fault.status, headers=headers)(scope, receive, send)


async def drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


router = APIRouter(
    prefix="/_sandbox", tags=["sandbox"], include_in_schema=False, route_class=DeferredRoute
)


@router.post("/faults", status_code=201, summary="Make the next matching requests fail")
async def add_fault(request: Request) -> dict[str, Any]:
    spec = await read_body(request, FaultSpec)
    if len(FAULTS.faults) >= MAX_FAULTS:
        raise ValidationFailed.one("path", f"At most {MAX_FAULTS} faults can be in force.")
    return {"data": asdict(FAULTS.add(spec))}


@router.get("/faults", summary="The faults in force")
async def list_faults() -> dict[str, Any]:
    return {"data": [asdict(fault) for fault in FAULTS.faults]}


@router.delete("/faults", status_code=204, summary="Clear every fault")
async def clear_faults() -> Response:
    FAULTS.clear()
    return Response(status_code=204)


def reset_faults(_app: FastAPI) -> None:
    """A reset hook: no fault survives a reset."""
    FAULTS.clear()
