"""Requests sent straight to their route (`procflow.api.direct`) answer as routed ones do.

`PUT /runs/{id}` skips routing and most middleware. These tests pin what that must not
change: the `/api` prefix, errors answered by the application's handlers, a fast path that
declines (the body is replayed to the full application), an unexpected error (500 in
Tallyfy's shape), and a request under a root path (left to the router).
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from procflow.api import direct
from procflow.api.app import create_app
from procflow.api.routes import ROUTERS
from procflow.services import runs as run_service
from procflow.settings import Settings
from tests.factories import World


def test_the_table_holds_the_run_update_at_both_prefixes_only() -> None:
    table = direct.direct_table([r for router in ROUTERS for r in router.routes], ("", "/api"))
    assert set(table) == {"PUT"}
    paths = ["/organizations/o/runs/r", "/api/organizations/o/runs/r"]
    for path in paths:
        assert any(pattern.match(path) for pattern, _ in table["PUT"]), path
    for path in ("/organizations/o/runs/r/activate", "/organizations/o/runs", "/x/runs/r"):
        assert not any(pattern.match(path) for pattern, _ in table["PUT"]), path


def test_root_and_api_prefix_answer_the_same(world: World) -> None:
    template = world.template()
    body = {"name": "Renamed", "summary": "s"}
    answers = []
    for prefix in ("", "/api"):
        run_id = world.launch(template)["id"]
        response = world.client.put(
            prefix + world.url(f"/runs/{run_id}"), json=body, headers=world.admin.headers
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"]
        data = response.json()["data"]
        answers.append((data["name"], data["summary"], data["status"]))
    assert answers[0] == answers[1]


def test_a_declined_fast_path_replays_the_body_to_the_application(world: World) -> None:
    run_id = world.launch(world.template())["id"]
    response = world.call("PUT", f"/runs/{run_id}", json={"name": 5, "owner_id": "x"})
    assert response.status_code == 422, response.text
    assert set(response.json()["errors"]) >= {"name", "owner_id"}


def test_domain_errors_are_answered_by_the_application_handlers(world: World) -> None:
    response = world.call("PUT", "/runs/" + "f" * 32, json={"name": "x"})
    assert response.status_code == 404
    assert response.json()["code"] == "RESOURCE_NOT_FOUND"
    unauthenticated = world.client.put(
        world.url("/runs/" + "f" * 32), json={}, headers={"Authorization": "Bearer nope"}
    )
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == "UNAUTHENTICATED"


def test_an_unexpected_error_is_a_500_in_tallyfy_shape(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = world.launch(world.template())["id"]

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(run_service, "update_run", broken)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.put(
            world.url(f"/runs/{run_id}"), json={"name": "x"}, headers=world.admin.headers
        )
    assert response.status_code == 500
    assert response.json() == {
        "error": True,
        "message": "Internal server error.",
        "code": "INTERNAL_ERROR",
    }
    assert "boom" not in response.text


def test_a_request_under_a_root_path_goes_through_the_router(
    world: World, settings: Settings
) -> None:
    run_id = world.launch(world.template())["id"]
    with TestClient(create_app(settings), root_path="/base") as client:
        response = client.put(
            "/base" + world.url(f"/runs/{run_id}"),
            json={"name": "Routed"},
            headers=world.admin.headers,
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["name"] == "Routed"
