"""The routers' routes, added to the application one by one.

`FastAPI.include_router` keeps each included router behind an inclusion record that is
matched on every request (the router's routes once to choose the router, then again to
choose the route) and that solves each route's scope and settings through it. procflow's
routers take nothing at inclusion but a prefix and whether the OpenAPI document shows
them, so `mount` adds each route to the application's own router instead, with the same
path, settings and route class, as `include_router` did in FastAPI's earlier releases:
FastAPI's router still matches, in the same order, and the OpenAPI document is the same
(`tests/api/test_mounting.py` compares both).
"""

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute


def mount(
    app: FastAPI, routers: Iterable[APIRouter], *, prefix: str = "", in_schema: bool = True
) -> None:
    """Add every route of `routers`, in order, under `prefix`."""
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                raise TypeError(f"{route!r}: only API routes can be mounted")
            app.router.add_api_route(
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
