"""Routes are built when first used (`api/deferred_routes.py`): until then they match
requests as built ones do; once built they are what `APIRoute.__init__` would have made."""

import threading
from typing import Annotated

import pytest
from fastapi import APIRouter, FastAPI, Query, Response
from fastapi.routing import APIRoute
from starlette.testclient import TestClient

from procflow.api.deferred_routes import DeferredRoute
from procflow.api.schemas.base import ERRORS, Envelope
from procflow.api.transaction import TransactionalRoute


def _route() -> TransactionalRoute:
    router = APIRouter(route_class=TransactionalRoute, responses=ERRORS)

    @router.get("/things/{thing_id}", response_model=Envelope, summary="A thing")
    async def thing(thing_id: str, size: Annotated[int, Query(ge=1)] = 1) -> Response:
        return Response(f"{thing_id}:{size}")

    route = router.routes[0]
    assert isinstance(route, TransactionalRoute)
    return route


def test_a_route_is_not_built_until_something_reads_it() -> None:
    route = _route()
    assert "_pending" in route.__dict__
    assert "dependant" not in route.__dict__
    assert route.path_format == "/things/{thing_id}"
    assert route.methods == {"GET"}
    assert route.name == "thing"
    assert [p.name for p in route.dependant.path_params] == ["thing_id"]
    assert "_pending" not in route.__dict__


def test_a_built_route_is_what_fastapi_builds() -> None:
    deferred = _route()
    plain = APIRoute(
        "/things/{thing_id}", deferred.endpoint, response_model=Envelope, responses=ERRORS
    )
    for name in ("path_regex", "path_format", "methods", "name", "unique_id", "status_code"):
        assert getattr(deferred, name) == getattr(plain, name)
    assert [p.name for p in deferred.dependant.query_params] == ["size"]
    assert deferred.body_field is None
    with pytest.raises(AttributeError):
        _ = getattr(deferred, "no_such_attribute")  # noqa: B009


def _served(route_class: type[APIRoute]) -> tuple[FastAPI, APIRoute]:
    app = FastAPI()
    router = APIRouter(route_class=route_class)

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str, size: Annotated[int, Query(ge=1)] = 1) -> Response:
        return Response(f"{thing_id}:{size}")

    app.include_router(router)
    return app, router.routes[0]  # type: ignore[return-value]


def test_a_route_built_by_its_first_request_answers_as_fastapis_own() -> None:
    deferred_app, route = _served(DeferredRoute)
    plain_app, _ = _served(APIRoute)
    assert "_pending" in route.__dict__
    for path in ("/things/a?size=0", "/things/a?size=x", "/things/a?size=2", "/things/"):
        with TestClient(deferred_app) as deferred, TestClient(plain_app) as plain:
            got, expected = deferred.get(path), plain.get(path)
        assert (got.status_code, got.content) == (expected.status_code, expected.content)
    assert "_pending" not in route.__dict__


def test_two_threads_first_using_a_route_both_get_it_built() -> None:
    route = _route()
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(route.dependant)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4
    assert all(found is seen[0] for found in seen)
