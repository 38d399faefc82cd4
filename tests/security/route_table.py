"""The app's own route table, as (method, path template) pairs, for tests that must cover
every route: a new route shows up here without anyone listing it by hand.

The served app of the test modules that parametrize over its routes or its document is
built once per process (`served_app`): FastAPI prepares a route (its parameters' and body's
validators) on first use, which for every route of an app costs more than a second, and
these modules are imported in every pytest-xdist worker.
"""

import re
from copy import deepcopy
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from procflow.api.app import create_app
from procflow.settings import Settings

API_PREFIX = "/api"
PARAM = re.compile(r"{(\w+)}")
CONVERTOR = re.compile(r"{(\w+):\w+}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    takes_body: bool

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def url(self, ids: dict[str, str], **overrides: str) -> str:
        return PARAM.sub(lambda m: overrides.get(m[1], ids.get(m[1], m[1])), self.path)


def mounted(app: FastAPI) -> dict[tuple[str, str], Endpoint]:
    """Every API operation by (method, full path), at the root and under `/api`; path
    convertors are dropped (`{user_id:int}` is `{user_id}`)."""
    found: dict[tuple[str, str], Endpoint] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path is None:
            continue
        path = CONVERTOR.sub(r"{\1}", context.path)
        for method in sorted(context.methods or ()):
            found[(method, path)] = Endpoint(method, path, route.body_field is not None)
    return found


def endpoints(app: FastAPI) -> list[Endpoint]:
    """The operations served at the root (each is also served, identically, under `/api`)."""
    return sorted(
        (e for e in mounted(app).values() if not e.path.startswith(API_PREFIX + "/")),
        key=lambda e: e.key,
    )


@cache
def served_app() -> FastAPI:
    """The app with default settings, as served; it is never started (no database)."""
    return create_app(Settings(database_url="sqlite://"))


@cache
def served_endpoints() -> tuple[Endpoint, ...]:
    """`endpoints` of the served app."""
    return tuple(endpoints(served_app()))


def served_document() -> dict[str, Any]:
    """A copy of the served app's OpenAPI document (FastAPI keeps the original once made)."""
    return deepcopy(served_app().openapi())
