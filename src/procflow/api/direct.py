"""The hottest requests, sent straight to their route.

On the way to an endpoint, a request passes Starlette's and FastAPI's middleware and then
FastAPI's router, which matches the path against each route of the matching router twice
and builds the route's scope: about a tenth of a cheap run update. `DirectRoutes` is
application middleware: inside `ServerErrorMiddleware` (which still answers anything
unexpected) and inside rate limiting, when that is on, but before the exception
middleware and the router. A request whose method and path belong to a route with a fast
path (`api/fast_path.py`) runs that route's transaction and fast path at once, and its
errors are answered by the application's own exception handlers. When the fast path
declines (anything unusual), the request continues through the whole application with
its body replayed, and is answered exactly as it would have been.
"""

import re
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from starlette.convertors import StringConvertor
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from procflow.api.fast_path import FastPath, fast_path_for
from procflow.api.transaction import TransactionalRoute

Entry = tuple[re.Pattern[str], FastPath]


def direct_table(routes: Iterable[Any], prefixes: Iterable[str]) -> dict[str, list[Entry]]:
    """Per method, the path patterns of the routes with a fast path, at each prefix."""
    table: dict[str, list[Entry]] = {}
    for route in routes:
        if not (
            isinstance(route, TransactionalRoute) and fast_path_for(route.endpoint) is not None
        ):
            continue
        for prefix in prefixes:
            pattern, _, convertors = compile_path(prefix + route.path)
            if not all(isinstance(c, StringConvertor) for c in convertors.values()):
                continue  # a typed path parameter: leave it to the router
            for method in route.methods or ():
                table.setdefault(method, []).append((pattern, route.direct_handler()))
    return table


class DirectRoutes:
    """ASGI middleware: the table's requests to their route, the rest onwards."""

    def __init__(self, app: ASGIApp, *, owner: FastAPI, table: dict[str, list[Entry]]) -> None:
        self.app = app
        self.owner = owner
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            for pattern, handler in self.table.get(scope["method"], ()):
                match = pattern.match(scope["path"])
                if match is not None:
                    await self._direct(handler, match.groupdict(), scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _direct(
        self,
        handler: FastPath,
        path_params: dict[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        received: list[Message] = []

        async def recording() -> Message:
            message = await receive()
            received.append(message)
            return message

        request = Request({**scope, "path_params": path_params}, recording, send)
        try:
            response = await handler(request)
        except Exception as error:
            exception_handler = self._handler_for(error)
            if exception_handler is None:
                raise
            response = await exception_handler(request, error)
        if response is None:
            await self.app(scope, _replaying(received, receive), send)
            return
        await response(scope, receive, send)

    def _handler_for(self, error: Exception) -> Any:
        """The application's handler for this error, as Starlette's ExceptionMiddleware
        looks it up (unexpected errors are left to ServerErrorMiddleware)."""
        handlers = self.owner.exception_handlers
        for kind in type(error).__mro__:
            if kind is Exception:
                return None
            if kind in handlers:
                return handlers[kind]
        return None


def _replaying(received: list[Message], receive: Receive) -> Receive:
    pending = list(received)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def install_direct_routes(app: FastAPI, routes: Iterable[Any], prefixes: Iterable[str]) -> None:
    app.add_middleware(DirectRoutes, owner=app, table=direct_table(routes, prefixes))
