"""The ASGI application of a route whose parameters are planned.

FastAPI serves each route through `request_response`: two exit stacks, for dependencies
with `yield` and for uploaded files, and the application's exception handlers applied
around the route. A route with a `ParameterPlan` has neither such dependencies nor a form
body, and the same exception handlers are applied one step further out, on the same
scope, by Starlette's `ExceptionMiddleware` (procflow's handlers read nothing but the
scope). Such a route is therefore served by `planned_app`: one `Request`, the handler, the
response. A request that the plan hands to FastAPI's own handler gets the exit stacks that
handler expects from `with_exit_stacks`.
"""

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]


def planned_app(handler: Handler) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await handler(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


async def with_exit_stacks(handler: Handler, request: Request) -> Response:
    """`handler(request)` with the exit stacks FastAPI's `request_response` would give it."""
    scope = request.scope
    if "fastapi_inner_astack" in scope:
        return await handler(request)
    async with AsyncExitStack() as request_stack:
        scope["fastapi_inner_astack"] = request_stack
        async with AsyncExitStack() as function_stack:
            scope["fastapi_function_astack"] = function_stack
            return await handler(request)
