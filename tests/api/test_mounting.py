"""Routes added one by one (`api/mounting.py`) make the same application as FastAPI's
`include_router`: the same OpenAPI document and the same operations, in the same order."""

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Response
from fastapi.routing import APIRoute, iter_route_contexts

from procflow.api import app as application
from procflow.api.app import create_app
from procflow.api.mounting import mount
from procflow.api.schemas.base import ERRORS, Envelope
from procflow.api.transaction import TransactionalRoute
from procflow.settings import Settings
from tests.security.route_table import served_app

SETTINGS = Settings(database_url="sqlite://")


def _included(app: FastAPI, routers: Any, *, prefix: str = "", in_schema: bool = True) -> None:
    for router in routers:
        app.include_router(router, prefix=prefix, include_in_schema=in_schema)


def _operations(app: FastAPI) -> list[tuple[str, str, str, type[APIRoute], bool]]:
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in sorted(context.methods or ()):
                path = context.path or ""
                shown = route.include_in_schema and not path.startswith("/api/")
                found.append((method, path, route.name, type(route), shown))
    return found


@pytest.fixture(scope="module")
def both() -> tuple[FastAPI, FastAPI]:
    # The served app as the security matrices build it once per process (same settings): its
    # OpenAPI document, which takes seconds to make, is then made once for both.
    mounted = served_app()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(application, "mount", _included)
        included = create_app(SETTINGS)
    return mounted, included


def test_the_openapi_document_is_the_same(both: tuple[FastAPI, FastAPI]) -> None:
    mounted, included = both
    assert mounted.openapi() == included.openapi()


def test_the_operations_are_the_same_in_the_same_order(both: tuple[FastAPI, FastAPI]) -> None:
    mounted, included = both
    assert _operations(mounted) == _operations(included)
    assert len(_operations(mounted)) > 200


def test_planned_routes_are_served_by_their_own_asgi_app(both: tuple[FastAPI, FastAPI]) -> None:
    routes = [r for r in both[0].routes if isinstance(r, TransactionalRoute)]
    update = next(
        r
        for r in routes
        if r.path == "/organizations/{org_id}/runs/{run_id}" and "PUT" in (r.methods or ())
    )
    assert update.planned
    assert update.app.__qualname__ == "planned_app.<locals>.app"


def test_only_api_routes_can_be_mounted() -> None:
    router = APIRouter()
    router.add_route("/plain", lambda _request: Response())
    with pytest.raises(TypeError, match="only API routes"):
        mount(FastAPI(), [router])


def test_response_fields_are_made_when_first_read() -> None:
    """A route's documented responses get FastAPI's own fields (its names, in its order),
    only once something (the OpenAPI document) reads them."""
    router = APIRouter(route_class=TransactionalRoute, responses=ERRORS)

    @router.get("/things", response_model=Envelope, summary="Things")
    async def things() -> Response:
        return Response()

    route = router.routes[0]
    assert isinstance(route, TransactionalRoute)
    route.built()
    assert "_deferred" in route.__dict__
    assert route.response_model is Envelope
    assert route.responses == ERRORS
    fields = route.response_fields
    assert "_deferred" not in route.__dict__
    assert list(fields) == list(ERRORS)
    assert fields[404].name == f"Response_404_{route.unique_id}"
    assert route.response_field is not None
    assert route.response_field.name == f"Response_{route.unique_id}"
