"""`--tallyfy-limits`: the sandbox behaves like Tallyfy where integrations get hurt.

1. Tallyfy's published rate limits (`rate_policy.TALLYFY_PRESET`: 600 requests a minute per
   token, and per address without one; per organization 120 comments and 30 guest invites
   an hour; not procflow's own failed-authentication budget, which Tallyfy does not
   publish), answered as Tallyfy does: 429, `RATE_LIMIT_EXCEEDED`, `Retry-After` and
   `X-RateLimit-*` headers. The windows run on the sandbox clock: advancing it refills them,
   and a reset empties them.
2. procflow's own safety extensions are switched off, since Tallyfy has none of them: the
   request headers `Idempotency-Key`, `If-Match`, `If-None-Match` and `Prefer` are dropped
   (a retried POST creates twice, the last writer wins) and answers carry no `ETag`.

docs/testing-integrations.md lists the same, for the people who test against them.
"""

from collections import deque
from typing import Any

from fastapi import FastAPI
from limits import RateLimitItem
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from procflow.api.observability import Observability
from procflow.api.ratelimit import RateLimitMiddleware
from procflow.rate_policy import Budget, RatePolicy, parse_policy
from procflow.sandbox.fault_answers import clock_timestamp
from procflow.sandbox.patterns import is_control

IGNORED_REQUEST_HEADERS = frozenset({b"idempotency-key", b"if-match", b"if-none-match", b"prefer"})
DROPPED_RESPONSE_HEADERS = frozenset({b"etag"})


class ClockedWindows:
    """Moving windows kept in sandbox-clock time, in process (the sandbox is one process)."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}

    def _live(self, key: str, seconds: int, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - seconds:
            hits.popleft()
        return hits

    async def window(self, key: str, rate: RateLimitItem) -> tuple[float, int]:
        now = clock_timestamp()
        hits = self._live(key, rate.get_expiry(), now)
        return (hits[0] if hits else now), len(hits)

    async def acquire(self, key: str, rate: RateLimitItem) -> bool:
        now = clock_timestamp()
        hits = self._live(key, rate.get_expiry(), now)
        if len(hits) >= rate.amount:
            return False
        hits.append(now)
        return True

    async def close(self) -> None:
        return None

    def clear(self) -> None:
        self._hits.clear()


WINDOWS = ClockedWindows()


class TallyfyQuirks:
    """Takes procflow's extensions away: what Tallyfy ignores, the sandbox ignores too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_control(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = [h for h in scope["headers"] if h[0] not in IGNORED_REQUEST_HEADERS]

        async def send_without_etag(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    h for h in message.get("headers", ()) if h[0] not in DROPPED_RESPONSE_HEADERS
                ]
                message = {**message, "headers": kept}
            await send(message)

        await self.app({**scope, "headers": headers}, receive, send_without_etag)


class SandboxRateLimit(RateLimitMiddleware):
    """Tallyfy's limits for the API; the control routes stay unlimited."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_control(scope["path"]):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def published(spec: str = "tallyfy") -> RatePolicy:
    """The budgets of `spec` (a `rate_limit` value), without procflow's own one."""
    budgets = parse_policy(spec).budgets
    return RatePolicy({k: v for k, v in budgets.items() if k is not Budget.AUTH_FAILURES})


def install_tallyfy_limits(app: FastAPI, policy: str = "tallyfy") -> None:
    """Adds both just inside `Observability` (so a 429 still gets a request id and is
    counted) and outside everything else; call it on an app `create_app` built. `policy`
    is a `rate_limit` setting value (tests use smaller budgets)."""
    stack = app.user_middleware
    kinds: list[Any] = [entry.cls for entry in stack]
    at = kinds.index(Observability) + 1 if Observability in kinds else 0
    limits = Middleware(
        SandboxRateLimit, policy=published(policy), windows=WINDOWS, now=clock_timestamp
    )
    stack[at:at] = [Middleware(TallyfyQuirks), limits]


def reset_limits(_app: FastAPI) -> None:
    """A reset hook: every rate-limit window starts empty again."""
    WINDOWS.clear()
