"""`Idempotency-Key` on POST routes under `/organizations/{org_id}/`: the HTTP side.

`TransactionalRoute` calls three things here. `claim`, after the body was read and
before the request's transaction opens: it validates the key (400), checks the bearer
token, and either replays the stored response, refuses (409 while the first request
runs, 422 for a different request under the same key), or claims the key in its own
short transaction. `recorded`, inside the request's transaction: it stores the response
with the effect, or gives the key back for answers that mean "try again" (401, 409,
429, 5xx). `released_on_error`: when the request fails with an error, everything was
rolled back, so the key is given back and a corrected retry may use it (as Stripe does:
a result is kept only once the endpoint has run to completion).

Keys are scoped to the organization and to the client, a digest of its bearer token:
another token never sees, replays or blocks this one's keys. Unauthenticated requests
and tokens that do not belong to the organization skip all this and get their 401/403.
"""

import re
from contextlib import AbstractContextManager, nullcontext, suppress
from datetime import timedelta
from types import TracebackType
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from procflow.api.dependencies import bearer_token
from procflow.api.problems import BadRequest
from procflow.errors import PermissionDenied, Unauthenticated, Unavailable
from procflow.services import auth, guests, idempotency
from procflow.services.idempotency import HEADER, Scope, StoredResponse
from procflow.services.records import Lease
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.database import SessionFactory

KEY = re.compile(r"[\x21-\x7e]{1,255}")
KEPT_HEADERS = ("content-type", "etag", "location")
# Answers that mean "nothing was done, try again": the key is given back, not stored.
RETRY_STATUSES = frozenset({401, 409, 429})
REPLAYED = {"Idempotent-Replayed": "true"}
# Routes whose answer carries a secret: it must not be kept in the database.
CREDENTIALS = frozenset({"/organizations/{org_id}/guests/{email}/token"})
NOTHING_TO_RELEASE = nullcontext()


def requested_key(request: Request) -> str | None:
    """The key sent, if any: 1..255 visible ASCII characters, taken as sent (quotes too)."""
    values = request.headers.getlist(HEADER)
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest(f"Send one {HEADER} header, not several.")
    key = values[0].strip()
    if KEY.fullmatch(key) is None:
        raise BadRequest(f"{HEADER} must be 1 to 255 visible ASCII characters.")
    return key


def fingerprint(request: Request, body: bytes) -> str:
    """The request's identity; `/api/...` and `/...` name the same route.

    A JSON body counts by its meaning: it is compared as canonical JSON (keys sorted at
    every level, no insignificant whitespace), so a retry whose client serialised the same
    object with its keys in another order is the same request.
    """
    path: str = request.scope["path"]
    if path.startswith("/api/"):
        path = path[4:]
    parsed = getattr(request, "_json", None)
    if isinstance(parsed, dict) and body:
        body = orjson.dumps(parsed, option=orjson.OPT_SORT_KEYS)
    return idempotency.fingerprint(request.method, path, request.scope["query_string"], body)


def _speaks_for_org(uow: UnitOfWork, request: Request, token: str, org_id: str) -> bool:
    """Whether the token is a member's or a guest's of `org_id` (a revoked one is not)."""
    try:
        auth.caller_in(uow, token, org_id, request.app.state.caller_cache)
    except Unauthenticated:
        try:
            guests.guest_for_token(uow, token, org_id)
        except (Unauthenticated, PermissionDenied):
            return False
    except PermissionDenied:
        return False
    return True


def _ttl(request: Request) -> timedelta:
    return timedelta(hours=request.app.state.settings.idempotency_ttl_hours)


async def claim(request: Request, factory: SessionFactory) -> Lease | Response | None:
    """Phase 1: the claimed key, a replayed response, or None when no key applies."""
    if request.method != "POST":
        return None
    key = requested_key(request)
    if key is None:
        return None
    try:
        token = bearer_token(request)
    except Unauthenticated:
        return None
    org_id = str(request.path_params["org_id"])
    scope = Scope(org_id, auth.hash_token(token), key, fingerprint(request, await request.body()))
    with UnitOfWork(factory, write=True) as uow:
        if not _speaks_for_org(uow, request, token, org_id):
            return None
        outcome = idempotency.claim(uow, scope, _ttl(request))
    if isinstance(outcome, StoredResponse):
        return Response(outcome.body, outcome.status_code, headers={**outcome.headers, **REPLAYED})
    return outcome


def recorded(request: Request, lease: Lease | None, response: Response) -> Response:
    """Phase 2, in the request's transaction: keep the response with the effect."""
    if lease is None:
        return response
    uow: UnitOfWork = request.state.uow
    body = getattr(response, "body", None)
    status = response.status_code
    if status >= 500 or status in RETRY_STATUSES or not isinstance(body, bytes):
        idempotency.release(uow, lease)
        return response
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    idempotency.complete(uow, lease, StoredResponse(status, headers, body), _ttl(request))
    return response


class _ReleaseOnError:
    def __init__(self, lease: Lease, factory: SessionFactory) -> None:
        self.lease = lease
        self.factory = factory

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            return
        # If even this fails, the lease runs out and a retry may claim the key then.
        with suppress(Unavailable), UnitOfWork(self.factory, write=True) as uow:
            idempotency.release(uow, self.lease)


def released_on_error(lease: Lease | None, factory: SessionFactory) -> AbstractContextManager[None]:
    """Wrap the request's transaction: if it fails, nothing was applied; free the key."""
    return NOTHING_TO_RELEASE if lease is None else _ReleaseOnError(lease, factory)


HEADER_PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": (
        "Makes a retry safe: the first response is stored for this organization and "
        "token and replayed for later requests with the same key (header "
        "`Idempotent-Replayed: true`). 409 while the first is running; 422 if the key "
        "was used for a different request."
    ),
}


def enable(route: APIRoute) -> bool:
    """Whether `route` takes keys: POST under an organization, unless its answer is a new
    credential (never stored, so never replayed). Declares the header in its OpenAPI."""
    path = route.path_format.removeprefix("/api")
    if "POST" not in (route.methods or ()) or "{org_id}" not in path or path in CREDENTIALS:
        return False
    extra = route.openapi_extra or {}
    declared = extra.get("parameters", [])
    if HEADER_PARAMETER not in declared:  # a mounted copy of a route has it already
        route.openapi_extra = {**extra, "parameters": [*declared, HEADER_PARAMETER]}
    return True
