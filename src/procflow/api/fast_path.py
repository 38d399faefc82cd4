"""Endpoints that resolve their own parameters on the hot path.

FastAPI's dependency solving costs about a fifth of a cheap write: every `Depends`,
path, query, header and body parameter goes through generic machinery on each request.
An endpoint may register a *fast path*: a coroutine that takes the request, checks the
same constraints the signature declares, calls the same dependency functions in the
same order, and answers; or returns `None` when anything is unusual (a parameter that
fails its checks, a body that does not validate), and then FastAPI's own handling runs
instead and answers exactly as it always does. The signature stays the documentation:
OpenAPI is generated from it as for any other route.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
FastPath = Callable[[Request], Coroutine[Any, Any, Response | None]]

_FAST_PATHS: dict[Callable[..., Any], FastPath] = {}


def fast_path_of(endpoint: Callable[..., Any]) -> Callable[[FastPath], FastPath]:
    """Register the decorated coroutine as `endpoint`'s fast path."""

    def register(fast: FastPath) -> FastPath:
        _FAST_PATHS[endpoint] = fast
        return fast

    return register


def fast_path_for(endpoint: Callable[..., Any]) -> FastPath | None:
    return _FAST_PATHS.get(endpoint)


def with_fast_path(endpoint: Callable[..., Any], standard: Handler) -> Handler:
    """`standard`, preceded by the endpoint's fast path if it has one (looked up per
    request: a route may be built before its module registered the fast path)."""

    async def handler(request: Request) -> Response:
        fast = fast_path_for(endpoint)
        response = None if fast is None else await fast(request)
        return response if response is not None else await standard(request)

    return handler
