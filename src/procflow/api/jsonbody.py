"""Strict JSON request bodies and fast JSON responses.

Every route is a `JsonRoute`: before FastAPI sees a body, this reads it with a size cap
(413), refuses content types other than JSON (415), parses it with orjson (which refuses
NaN, Infinity and invalid UTF-8), bounds nesting depth, and insists on a JSON object (400);
array and string lengths are bounded too (422, naming the field).
An empty body counts as `{}`, because Tallyfy's clients send empty bodies with a JSON
content type on PUT and DELETE.
"""

from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.responses import JSONResponse

from procflow.api import idempotency
from procflow.api.problems import BadRequest, PayloadTooLarge, UnsupportedMediaType
from procflow.errors import PermissionDenied, Unavailable, ValidationFailed
from procflow.services import activity
from procflow.services.comments import GuestCommentRefused
from procflow.services.unit_of_work import UnitOfWork

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class JsonResponse(JSONResponse):
    """JSON by orjson; a `JSONResponse`, so the OpenAPI document shows the response models."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def check_body_limits(body: Any, *, max_depth: int, max_items: int, max_chars: int) -> None:
    """Nesting depth, array lengths, string lengths and NUL characters, in ONE pass.

    Iterative (a hostile body cannot exhaust the stack) and cheap on the hot path: only
    containers carry their path, strings are checked where they stand. Too deep is a 400
    (the body's shape is unusable); an over-long array, string or key, or text holding
    U+0000 (which PostgreSQL cannot store), is a 422 naming the field path.
    """
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(body, 1, ())]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth, path = pop()
        keyed = type(item) is dict
        if keyed:
            pairs: Any = item.items()
        elif len(item) > max_items:
            raise _invalid(path, f"At most {max_items} items are allowed.")
        else:
            pairs = enumerate(item)
        for key, child in pairs:
            if keyed and (len(key) > max_chars or "\x00" in key):
                raise _invalid(path, f"Keys may hold at most {max_chars} characters, and no NUL.")
            kind = type(child)
            if kind is str:
                if len(child) > max_chars:
                    raise _invalid((*path, key), f"At most {max_chars} characters are allowed.")
                if "\x00" in child:
                    raise _invalid((*path, key), "The NUL character (U+0000) is not allowed.")
            elif kind is dict or kind is list:
                if depth >= max_depth:
                    raise BadRequest(f"The request body nests deeper than {max_depth} levels.")
                push((child, depth + 1, (*path, key)))


def _invalid(path: tuple[str | int, ...], message: str) -> ValidationFailed:
    return ValidationFailed({".".join(map(str, path)) or "body": [message]})


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest("Content-Length is not a number.")
        if int(declared) > limit:
            raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def parse_json_body(request: Request) -> Any:
    settings = request.app.state.settings
    raw = await read_capped(request, settings.max_body_bytes)
    if not raw.strip():
        return {}
    content_type = request.headers.get("content-type")
    if content_type and not is_json_type(content_type):
        raise UnsupportedMediaType("This endpoint accepts application/json bodies only.")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc.msg}.") from exc
    if not isinstance(parsed, dict):
        raise BadRequest("The request body must be a JSON object.")
    check_body_limits(
        parsed,
        max_depth=settings.max_json_depth,
        max_items=settings.max_array_items,
        max_chars=settings.max_string_chars,
    )
    return parsed


class TransactionalRoute(APIRoute):
    """An APIRoute that reads the whole body first, then runs in one unit of work.

    The body is read (with the size cap) before the transaction opens, so that no request
    ever waits on the network while holding the database's write lock. The unit of work
    commits once the endpoint has produced its response (rolls back if it raised), before
    a byte is sent: a client never sees a success that was not committed.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.takes_idempotency_key = idempotency.enable(self)

    async def prepare(self, request: Request) -> None:
        request._body = await read_capped(request, request.app.state.settings.max_body_bytes)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def transactional(request: Request) -> Response:
            return await self.in_transaction(request, handler)

        return transactional

    async def in_transaction(
        self, request: Request, handler: Callable[[Request], Coroutine[Any, Any, Response]]
    ) -> Response:
        await self.prepare(request)
        factory = request.app.state.session_factory
        keyed = self.takes_idempotency_key
        claim = await idempotency.claim(request, factory) if keyed else None
        if isinstance(claim, Response):
            return claim
        try:
            with (
                idempotency.released_on_error(claim, factory),
                UnitOfWork(factory, write=request.method not in READ_METHODS) as uow,
            ):
                request.state.uow = uow
                response = await handler(request)
                return idempotency.recorded(request, claim, response)
        except PermissionDenied as refusal:
            record_refusal(request, factory, refusal)
            raise


def record_refusal(request: Request, factory: Any, refusal: PermissionDenied) -> None:
    """Write down a refused request, after its own transaction has rolled back.

    Refused guest comments are written down by the comment routes, with their task.
    """
    caller = getattr(request.state, "caller", None)
    if caller is None or isinstance(refusal, GuestCommentRefused):
        return
    description = f"{request.method} {request.url.path}: {refusal.message}"[:2000]
    with suppress(Unavailable), UnitOfWork(factory, write=True) as uow:
        activity.record_denial(
            uow, caller, request.method, description, run_id=request.path_params.get("run_id")
        )


class JsonRoute(TransactionalRoute):
    """A transactional route whose JSON body, if any, has passed the checks above."""

    async def prepare(self, request: Request) -> None:
        if request.method not in BODY_METHODS:
            return
        parsed = await parse_json_body(request)
        if self.body_field is None:
            request._body = b""
            return
        request._body = orjson.dumps(parsed)
        request._json = parsed
        if "content-type" not in request.headers:
            request.scope["headers"] = [
                *request.scope["headers"],
                (b"content-type", b"application/json"),
            ]
            request.__dict__.pop("_headers", None)
