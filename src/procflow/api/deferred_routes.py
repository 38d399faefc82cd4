"""Routes built when first used: the sandbox starts without building any.

Building an `APIRoute` is reading its endpoint's signature into a dependency tree, with a
Pydantic field (a `TypeAdapter`: a validator and a serializer of its own) for every path,
query and header parameter and for the body, then making its request handler and its
`ParameterPlan`. The route modules did this for their 250 routes as they were imported:
most of what importing them cost, for a process that may serve a handful of them (a
sandbox under a test suite) or none before it forks (`serve --workers N`).

A `DeferredRoute` is made with what matching a request needs (its path, compiled as
Starlette compiles it, its methods, endpoint and name) and keeps its arguments; reading
anything else (the router handling a request, the OpenAPI document, a test) builds it
first, exactly as `APIRoute.__init__` would have built it then, through `build`, which a
route class overrides instead of `__init__`. A route that cannot be built fails where it
is first used rather than at import: the OpenAPI document builds every route, and the
tests make it.
"""

import threading
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import compile_path, get_name

from procflow.api.deferred_fields import DeferredFields

# Building reads the route's own attributes (re-entrant), and two threads may first use a
# route at once (a test client's thread and the server's): one builds, the other waits.
_BUILDING = threading.RLock()


class DeferredRoute(DeferredFields):
    """An `APIRoute` built on first use (see the module)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **arguments: Any) -> None:
        self.__dict__["_pending"] = (path, endpoint, arguments)
        self.path = path
        self.endpoint = endpoint
        name = arguments.get("name")
        self.name = get_name(endpoint) if name is None else name
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.methods = {method.upper() for method in arguments.get("methods") or ["GET"]}

    def build(self, path: str, endpoint: Callable[..., Any], **arguments: Any) -> None:
        """What `__init__` does for an `APIRoute`: subclasses extend this instead."""
        APIRoute.__init__(self, path, endpoint, **arguments)

    def built(self) -> "DeferredRoute":
        with _BUILDING:
            pending = self.__dict__.pop("_pending", None)
            if pending is not None:
                path, endpoint, arguments = pending
                try:
                    self.build(path, endpoint, **arguments)
                except BaseException:
                    self.__dict__["_pending"] = pending
                    raise
        return self

    def __getattr__(self, name: str) -> Any:
        # Called only for what the route does not have (yet); never for special names
        # (copy and pickle look those up), which building would not give it anyway.
        if name.startswith("__"):
            raise AttributeError(name)
        self.built()  # or, if another thread is building it, once that one has
        return object.__getattribute__(self, name)

    def _make_fields(self) -> None:
        self.built()
        super()._make_fields()
