"""Rate limiting at the outermost edge, decided before any handler runs.

Clients retry a 429 on every method, POST included, so a 429 must mean that nothing was
applied: this middleware answers it before the request reaches routing, a database or a
handler. It is installed only when `rate_limit` is not "off", so a default server pays
nothing for it.

Budgets are `limits` moving windows (Tallyfy documents a rolling window). A request draws
on its caller's budget up front: the bearer token's (kept only as a keyed digest), or the
client address's when it carries no token. Organization-wide budgets are checked up front
but counted once the answer shows the caller was let in (not 401/403), and the comment and
guest-invite caps only when something was created (2xx), so nobody can drain another
organization's budget with requests it refuses. 401 answers count against the client
address's failed-authentication budget; once that is spent, the address gets 429.

Every answer carries `X-RateLimit-Limit`, `-Remaining` and `-Reset` (Unix time at which the
oldest counted request leaves the window) of the narrowest budget the request drew on.
The window store failing (Redis down) lets requests through unlimited, with a warning.
"""

import hashlib
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fastapi import FastAPI
from limits import RateLimitItem
from limits.aio.storage import MovingWindowSupport as MovingWindowStorage
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from procflow.api.errors import error_body
from procflow.api.metrics import RATE_LIMIT_REFUSALS
from procflow.api.responses import JsonResponse
from procflow.rate_policy import Budget, RatePolicy, parse_policy, storage_uri
from procflow.settings import Settings

log = logging.getLogger("procflow.api.ratelimit")

ORG_PATH = re.compile(r"(?:/api)?/organizations/([^/]+)(.*)")
COMMENT_PATH = re.compile(r"/tasks/[^/]+/(?:comment|problem)/?")
GUEST_INVITE_PATH = re.compile(r"/guests/?")
UNLIMITED_PATHS = frozenset({"/health", "/healthz", "/readyz", "/metrics"})
TOKEN_DIGEST_KEY = b"procflow rate-limit budget"
# Budgets that describe how much a client may still send; the failed-authentication
# budget shows only on the 429 it causes.
SHOWN = frozenset(set(Budget) - {Budget.AUTH_FAILURES})

NOUNS = {
    Budget.TOKEN: "requests for this token",
    Budget.IP: "requests without a token from this address",
    Budget.ORG: "requests for this organization",
    Budget.COMMENTS: "comments in this organization",
    Budget.GUEST_INVITES: "guest invites in this organization",
    Budget.AUTH_FAILURES: "failed authentications from this address",
}


def install_rate_limiting(app: FastAPI, settings: Settings) -> None:
    """Adds the middleware unless `rate_limit` is "off"; a bad setting raises ValueError."""
    policy = parse_policy(settings.rate_limit)
    if policy.enabled:
        app.add_middleware(
            RateLimitMiddleware, policy=policy, windows=open_windows(settings.rate_limit_storage)
        )


class Windows(Protocol):
    """A `limits` storage's moving-window operations, awaited whatever the storage."""

    async def window(self, key: str, rate: RateLimitItem) -> tuple[float, int]: ...
    async def acquire(self, key: str, rate: RateLimitItem) -> bool: ...
    async def close(self) -> None: ...


class InProcessWindows:
    """`memory://`: plain function calls, no I/O, so nothing interleaves between a check
    and the hit that follows it."""

    def __init__(self) -> None:
        self._storage = MemoryStorage()

    async def window(self, key: str, rate: RateLimitItem) -> tuple[float, int]:
        return self._storage.get_moving_window(key, rate.amount, rate.get_expiry())

    async def acquire(self, key: str, rate: RateLimitItem) -> bool:
        return self._storage.acquire_entry(key, rate.amount, rate.get_expiry())

    async def close(self) -> None:
        return None


class SharedStoreWindows:
    """Redis, through redis-py's asyncio client, so that several workers share one budget."""

    def __init__(self, uri: str) -> None:
        storage = storage_from_string(
            uri, wrap_exceptions=True, key_prefix="procflow", implementation="redispy"
        )
        if not isinstance(storage, MovingWindowStorage):
            raise ValueError(f"rate_limit_storage {uri!r} offers no moving windows")
        self._storage = storage

    async def window(self, key: str, rate: RateLimitItem) -> tuple[float, int]:
        return await self._storage.get_moving_window(key, rate.amount, rate.get_expiry())

    async def acquire(self, key: str, rate: RateLimitItem) -> bool:
        return await self._storage.acquire_entry(key, rate.amount, rate.get_expiry())

    async def close(self) -> None:
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()


def open_windows(setting: str) -> Windows:
    uri = storage_uri(setting)
    return InProcessWindows() if uri == "memory://" else SharedStoreWindows(uri)


def token_digest(scope: Scope) -> str | None:
    """A keyed digest of a well-formed bearer token; the token itself is never kept."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, token = value.partition(b" ")
            token = token.strip()
            if kind.lower() != b"bearer" or not token or len(token) > 512 or b" " in token:
                return None
            return hashlib.blake2b(token, key=TOKEN_DIGEST_KEY, digest_size=16).hexdigest()
    return None


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def admitted(status: int) -> bool:
    return status not in (401, 403)


def created(status: int) -> bool:
    return 200 <= status < 300


def refused_credentials(status: int) -> bool:
    return status == 401


@dataclass(slots=True)
class Standing:
    """Where one budget stands for this request; `counts` is None when the request was
    counted up front, else it tells from the answer's status whether it counts."""

    budget: Budget
    rate: RateLimitItem
    key: str
    counts: Callable[[int], bool] | None
    reset: float
    remaining: int


class RateLimitMiddleware:
    """`now` is the Unix time the windows are kept in (the sandbox passes its movable clock)."""

    def __init__(
        self,
        app: ASGIApp,
        policy: RatePolicy,
        windows: Windows,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.windows = windows
        self.now = now
        self._warned_at = 0.0
        # Per budget: each window with its key suffix and length, worked out once.
        self._rates = {
            budget: tuple(
                (rate, f"/{rate.amount}/{rate.get_expiry()}", rate.get_expiry())
                for rate in policy.rates(budget)
            )
            for budget in Budget
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing_on_shutdown(send))
            return
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            standings = await self.standings(scope)
            spent = [s for s in standings if s.remaining < 1] or await self._count_up_front(
                standings
            )
        except StorageError as error:
            self._warn(error)
            await self.app(scope, receive, send)
            return
        if spent:
            await self.refuse(max(spent, key=lambda s: s.reset), scope, receive, send)
            return
        await self.app(scope, receive, self._with_headers(send, standings))

    async def standings(self, scope: Scope) -> list[Standing]:
        address = client_address(scope)
        token = token_digest(scope)
        wanted: list[tuple[Budget, str, Callable[[int], bool] | None]] = [
            (Budget.TOKEN, token, None) if token else (Budget.IP, address, None),
            (Budget.AUTH_FAILURES, address, refused_credentials),
        ]
        org = ORG_PATH.fullmatch(scope["path"])
        if org:
            org_id, rest = org.groups()
            wanted.append((Budget.ORG, org_id, admitted))
            if scope["method"] == "POST" and COMMENT_PATH.fullmatch(rest):
                wanted.append((Budget.COMMENTS, org_id, created))
            elif scope["method"] == "POST" and GUEST_INVITE_PATH.fullmatch(rest):
                wanted.append((Budget.GUEST_INVITES, org_id, created))
        standings = []
        for budget, who, counts in wanted:
            for rate, suffix, seconds in self._rates[budget]:
                key = budget.value + "/" + who + suffix
                start, used = await self.windows.window(key, rate)
                standings.append(
                    Standing(budget, rate, key, counts, start + seconds, rate.amount - used)
                )
        return standings

    async def _count_up_front(self, standings: list[Standing]) -> list[Standing]:
        """Counts the caller's own budgets; a window filled meanwhile by another worker
        still refuses the request."""
        for standing in standings:
            if standing.counts is None:
                if not await self.windows.acquire(standing.key, standing.rate):
                    return [standing]
                standing.remaining -= 1
        return []

    def _with_headers(self, send: Send, standings: list[Standing]) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self._count_answer(int(message["status"]), standings)
                shown = [s for s in standings if s.budget in SHOWN]
                if shown:
                    narrowest = min(shown, key=lambda s: (s.remaining, s.rate.amount))
                    headers = [*message.get("headers", ()), *encoded(rate_headers(narrowest))]
                    message = {**message, "headers": headers}
            await send(message)

        return send_with_headers

    async def _count_answer(self, status: int, standings: list[Standing]) -> None:
        try:
            for standing in standings:
                counts = standing.counts
                if (
                    counts is not None
                    and counts(status)
                    and await self.windows.acquire(standing.key, standing.rate)
                ):
                    standing.remaining -= 1
        except StorageError as error:
            self._warn(error)

    async def refuse(self, spent: Standing, scope: Scope, receive: Receive, send: Send) -> None:
        rate = spent.rate
        wait = max(1, math.ceil(spent.reset - self.now()))
        unit = rate.GRANULARITY.name
        window = unit if rate.multiples == 1 else f"{rate.multiples} {unit}s"
        message = (
            f"Rate limit exceeded: at most {rate.amount} {NOUNS[spent.budget]} per "
            f"{window}. Retry in {wait} seconds."
        )
        spent.remaining = 0
        RATE_LIMIT_REFUSALS.labels(spent.budget.value).inc()
        response = JsonResponse(
            error_body(message, "RATE_LIMIT_EXCEEDED"),
            status_code=429,
            headers={"Retry-After": str(wait), **rate_headers(spent)},
        )
        await response(scope, receive, send)

    def _closing_on_shutdown(self, send: Send) -> Send:
        async def send_after_closing(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.windows.close()
            await send(message)

        return send_after_closing

    def _warn(self, error: StorageError) -> None:
        now = time.monotonic()
        if now - self._warned_at >= 60:
            self._warned_at = now
            log.warning("rate limits not applied: the window store failed (%s)", error)


def rate_headers(standing: Standing) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(standing.rate.amount),
        "X-RateLimit-Remaining": str(max(0, standing.remaining)),
        "X-RateLimit-Reset": str(math.ceil(standing.reset)),
    }


def encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]
