"""Route parameters resolved by procflow (`api/parameters.py`) answer as FastAPI would.

Each request is sent twice: once through the routes' parameter plans, and once with the
plans off (while dependency overrides are set, FastAPI solves every parameter itself).
Both answers must be the same, for requests valid and invalid in each kind of parameter.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx2 import Response

from procflow.api.parameters import ParameterPlan
from procflow.api.routes import ROUTERS
from tests.factories import World


def _no_override() -> None:
    """A dependency no route uses: overriding it only turns the plans off."""


@pytest.fixture
def fastapi_only(world: World) -> Iterator[FastAPI]:
    app: FastAPI = world.client.app  # type: ignore[assignment]  # TestClient types it as ASGI
    yield app
    app.dependency_overrides.pop(_no_override, None)


def _seen(response: Response) -> tuple[int, bytes, str | None, str | None]:
    headers = response.headers
    return (
        response.status_code,
        response.content,
        headers.get("content-type"),
        headers.get("etag"),
    )


def _both_ways(app: FastAPI, send: Callable[[], Response]) -> tuple[Any, Any]:
    """What `send()` gets through the plans, and what it gets with FastAPI solving."""
    planned = _seen(send())
    app.dependency_overrides[_no_override] = _no_override
    try:
        return planned, _seen(send())
    finally:
        app.dependency_overrides.pop(_no_override)


def _twice(app: FastAPI, world: World, method: str, path: str, **kwargs: Any) -> None:
    planned, solved = _both_ways(app, lambda: world.call(method, path, **kwargs))
    assert planned == solved, (method, path)


def test_the_hot_routes_are_planned() -> None:
    routes = [route for router in ROUTERS for route in router.routes]
    planned = {
        (method, route.path)
        for route in routes
        if isinstance(route, APIRoute) and ParameterPlan.of(route) is not None
        for method in route.methods or ()
    }
    for method in ("GET", "PUT"):
        assert (method, "/organizations/{org_id}/runs/{run_id}") in planned
    assert ("GET", "/organizations/{org_id}/runs") in planned


def test_run_reads_answer_the_same(world: World, fastapi_only: FastAPI) -> None:
    run_id = world.launch(world.template())["id"]
    etag = world.call("GET", f"/runs/{run_id}").headers["etag"]
    for path, headers in (
        (f"/runs/{run_id}", {}),
        (f"/runs/{run_id}?with=tasks,form_fields,checklist", {}),
        (f"/runs/{run_id}?with=" + "x" * 501, {}),
        (f"/runs/{run_id}", {"If-None-Match": etag}),
        (f"/runs/{run_id}", {"If-None-Match": "x" * 5000}),
        ("/runs/" + "0" * 32, {}),
        ("/runs?page=2&per_page=1", {}),
        ("/runs?page=0", {}),
        ("/runs?page=abc&per_page=-1", {}),
        ("/runs?without_pagination=maybe", {}),
    ):
        _twice(fastapi_only, world, "GET", path, headers=headers)


def test_run_updates_answer_the_same(world: World, fastapi_only: FastAPI) -> None:
    run_id = world.launch(world.template())["id"]
    settled = {"name": "Settled", "summary": "s"}
    etag = world.call("PUT", f"/runs/{run_id}", json=settled).headers["etag"]
    path = f"/runs/{run_id}"
    for body, headers in (
        (settled, {}),
        (settled, {"If-Match": etag}),
        (settled, {"If-Match": '"stale"'}),
        (settled, {"If-Match": "x" * 5000}),
        ({"name": ["not", "text"]}, {}),
        ({"tags": "not a list"}, {}),
        ({"unknown": 1, **settled}, {"Prefer": "handling=strict"}),
    ):
        _twice(fastapi_only, world, "PUT", f"{path}?with=tags", json=body, headers=headers)


def _raw_twice(app: FastAPI, world: World, method: str, path: str, headers: Any) -> None:
    planned, solved = _both_ways(
        app, lambda: world.client.request(method, path, headers=headers, json={})
    )
    assert planned == solved, (method, path, headers)


def test_callers_and_organizations_answer_the_same(world: World, fastapi_only: FastAPI) -> None:
    run_id = world.launch(world.template())["id"]
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        for method in ("GET", "PUT"):
            _raw_twice(fastapi_only, world, method, world.url(f"/runs/{run_id}"), headers)
    long_org = "/organizations/" + "o" * 70 + f"/runs/{run_id}"
    _raw_twice(fastapi_only, world, "GET", long_org, world.admin.headers)
