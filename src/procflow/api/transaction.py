"""The transaction boundary: every route is a `TransactionalRoute`, most a `JsonRoute`.

A request's body is read (and, for a `JsonRoute`, checked by `procflow.api.body`) before
its one unit of work opens; the unit of work commits once the endpoint has produced its
response. A refused request is written down in the activity trail after its own
transaction rolled back, unless the refusal says it is recorded elsewhere.
"""

from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any

import orjson
from fastapi import Request, Response

from procflow.api import idempotency
from procflow.api.body import parse_json_body, read_capped
from procflow.api.deferred_fields import defer
from procflow.api.deferred_routes import DeferredRoute
from procflow.api.parameters import ParameterPlan
from procflow.api.route_app import planned_app, with_exit_stacks
from procflow.errors import PermissionDenied, Unavailable
from procflow.services import activity
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.threads import DatabaseThreads

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TransactionalRoute(DeferredRoute):
    """An APIRoute that reads the whole body first, then runs in one unit of work.

    The body is read (with the size cap) before the transaction opens, so that no request
    ever waits on the network while holding the database's write lock. The unit of work
    commits once the endpoint has produced its response (rolls back if it raised), before
    a byte is sent: a client never sees a success that was not committed. Its response
    fields are made when the OpenAPI document first reads them (`api.deferred_fields`),
    the route itself when first used (`api.deferred_routes`).
    """

    def build(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.planned = False
        deferred = defer(endpoint, kwargs)
        super().build(path, endpoint, **kwargs)
        self.takes_idempotency_key = idempotency.enable(self)
        if self.planned and getattr(self, "max_body_size", None) is None:
            # The handler as the most derived route class builds it (a subclass may wrap it).
            self.app = planned_app(self.get_route_handler())
        deferred.restore(self)

    async def prepare(self, request: Request) -> None:
        request._body = await read_capped(request, request.app.state.settings.max_body_bytes)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        fastapi_handler = super().get_route_handler()
        plan = ParameterPlan.of(self) if self.plans_parameters() else None

        async def handler(request: Request) -> Response:
            if plan is not None:
                response = await plan.answer(request)
                if response is not None:
                    return response
            return await with_exit_stacks(fastapi_handler, request)

        async def transactional(request: Request) -> Response:
            return await self.in_transaction(request, handler)

        self.planned = plan is not None
        return transactional

    def plans_parameters(self) -> bool:
        """Whether `ParameterPlan` may call the endpoint: only when no body is parsed."""
        return self.body_field is None

    async def in_transaction(
        self, request: Request, handler: Callable[[Request], Coroutine[Any, Any, Response]]
    ) -> Response:
        await self.prepare(request)
        threads: DatabaseThreads | None = request.app.state.session_factory.threads
        if threads is not None:
            return await threads.run(self.transact(request, handler))
        return await self.transact(request, handler)

    async def transact(
        self, request: Request, handler: Callable[[Request], Coroutine[Any, Any, Response]]
    ) -> Response:
        """The request's unit of work around `handler`: on the server's event loop (SQLite),
        or on one of the `DatabaseThreads` (PostgreSQL, `storage.threads`)."""
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

    A refusal that is `recorded_elsewhere` (a refused guest comment, written down by the
    comment routes with its task) is left alone.
    """
    caller = getattr(request.state, "caller", None)
    if caller is None or refusal.recorded_elsewhere:
        return
    description = f"{request.method} {request.url.path}: {refusal.message}"[:2000]
    with suppress(Unavailable), UnitOfWork(factory, write=True) as uow:
        activity.record_denial(
            uow, caller, request.method, description, run_id=request.path_params.get("run_id")
        )


class JsonRoute(TransactionalRoute):
    """A transactional route whose JSON body, if any, has passed the checks above."""

    def plans_parameters(self) -> bool:
        return True

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
