"""The routers' routes, added to the application one by one.

`FastAPI.include_router` keeps each included router behind an inclusion record that is
matched on every request (the router's routes once to choose the router, then again to
choose the route) and that solves each route's scope and settings through it. procflow's
routers take nothing at inclusion but a prefix and whether the OpenAPI document shows
them, so `mount` adds each route to the application's own router instead, with the same
path, settings and route class, as `include_router` did in FastAPI's earlier releases:
FastAPI's router still matches, in the same order, and the OpenAPI document is the same
(`tests/api/test_mounting.py` compares both).

Building a route (its dependency tree, a Pydantic field for every parameter) is most of
what creating the application costs, and nothing in a built route belongs to one
application. The routes at the root are the ones the route modules made as they were
imported (each built on first use, `api.deferred_routes`): a route built again there, with
the same path and settings, would be the same route (the OpenAPI document is the same byte
for byte), and every endpoint returns its own response, so the application's default
response class, the one thing a rebuilt route would take from it, is never used. Those
under `/api` are made once per process and shared by every application made after the
first (the tests make many; `serve --workers N` forks after building none), on a router of
their own rather than the application's, so that FastAPI's `dependency_overrides` reach
them only where procflow's own routes read them (the parameter plans step aside while any
are set).
"""

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute


def mount(
    app: FastAPI,
    routers: Iterable[APIRouter],
    *,
    prefix: str = "",
    in_schema: bool = True,
) -> None:
    """Add every route of `routers`, in order, under `prefix`: at the root, the routers'
    own routes, as their modules built them (the routes `_build` would make again)."""
    routers = tuple(routers)
    response_class = app.router.default_response_class
    key = (tuple(map(id, routers)), prefix, in_schema, id(response_class))
    built = _BUILT.get(key)
    if built is None:
        built = _BUILT[key] = (
            _own(routers)
            if not prefix and in_schema
            else _build(routers, prefix, in_schema, response_class)
        )
    app.router.routes.extend(built)


_BUILT: dict[tuple[Any, ...], list[Any]] = {}


def _own(routers: tuple[APIRouter, ...]) -> list[Any]:
    routes = [route for router in routers for route in router.routes]
    for route in routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"{route!r}: only API routes can be mounted")
    return routes


def _build(
    routers: tuple[APIRouter, ...], prefix: str, in_schema: bool, response_class: Any
) -> list[Any]:
    scratch = APIRouter(default_response_class=response_class)
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                raise TypeError(f"{route!r}: only API routes can be mounted")
            scratch.add_api_route(
                prefix + route.path,
                route.endpoint,
                response_model=route.response_model,
                status_code=route.status_code,
                tags=route.tags,
                dependencies=route.dependencies,
                summary=route.summary,
                description=route.description,
                response_description=route.response_description,
                responses=route.responses,
                deprecated=route.deprecated,
                methods=route.methods,
                operation_id=route.operation_id,
                response_model_include=route.response_model_include,
                response_model_exclude=route.response_model_exclude,
                response_model_by_alias=route.response_model_by_alias,
                response_model_exclude_unset=route.response_model_exclude_unset,
                response_model_exclude_defaults=route.response_model_exclude_defaults,
                response_model_exclude_none=route.response_model_exclude_none,
                include_in_schema=route.include_in_schema and in_schema,
                response_class=route.response_class,
                name=route.name,
                route_class_override=type(route),
                callbacks=route.callbacks,
                openapi_extra=route.openapi_extra,
                generate_unique_id_function=route.generate_unique_id_function,
            )
    return list(scratch.routes)
