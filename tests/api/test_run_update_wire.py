"""`PUT /runs/{id}` on the wire: what a client sees at both prefixes, for requests usual
and unusual, with the ETag, the conditional answers and the activity records it leaves."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from procflow.api.app import create_app
from procflow.services import runs as run_service
from procflow.settings import Settings
from tests.api.feed import flat_all
from tests.factories import World

HEX_ID = re.compile(r"[0-9a-f]{32}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
MALFORMED = "The request's parameters are malformed."


def _scrub(value: Any) -> Any:
    """The body with what differs between twin runs (ids, times, numbers) blanked."""
    if isinstance(value, dict):
        return {
            HEX_ID.sub("<id>", key): "<n>" if key.endswith("id") else _scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, str):
        return TIMESTAMP.sub("<time>", HEX_ID.sub("<id>", value))
    return value


def test_root_and_api_prefix_answer_the_same(world: World) -> None:
    template = world.template()
    body = {"name": "Renamed", "summary": "s", "prevent_guest_comment": True}
    answers = []
    for prefix in ("", "/api"):
        run_id = world.launch(template)["id"]
        response = world.client.put(
            prefix + world.url(f"/runs/{run_id}?with=tags,folders,ko_form_fields"),
            json=body,
            headers=world.admin.headers,
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"].startswith('"')
        answers.append(_scrub(response.json()))
    assert answers[0] == answers[1]
    assert answers[0]["data"]["name"] == "Renamed"


def test_the_answer_is_the_representation_a_read_gives_with_its_etag(world: World) -> None:
    run_id = world.launch(world.template())["id"]
    put = world.call("PUT", f"/runs/{run_id}?with=tasks,form_fields", json={"starred": True})
    get = world.call("GET", f"/runs/{run_id}?with=tasks,form_fields")
    assert put.status_code == get.status_code == 200
    assert put.json() == get.json()
    assert put.headers["etag"] == get.headers["etag"]
    again = world.call("GET", f"/runs/{run_id}", headers={"If-None-Match": put.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")


@pytest.mark.parametrize(
    ("body", "headers", "query", "status", "errors"),
    [
        ({"name": "x"}, {"If-Match": '"' + "a" * 5000 + '"'}, "", 400, {"If-Match"}),
        ({"name": "x"}, {}, "?with=" + "a" * 600, 400, {"with"}),
        ({"name": "x", "bogus": 1}, {"Prefer": "handling=strict"}, "", 422, {"bogus"}),
        ({"name": 5, "bogus": 1}, {"Prefer": "handling=strict"}, "", 422, {"bogus"}),
        ({"name": None}, {}, "", 422, {"name"}),
        ({"name": "", "owner_id": "x"}, {}, "", 422, {"name", "owner_id"}),
        ({"tags": ["f" * 32]}, {}, "", 422, {"tags.0"}),
    ],
    ids=["long If-Match", "long with", "strict", "strict and invalid", "null", "two", "tag"],
)
def test_unusual_requests_are_refused_and_change_nothing(
    world: World,
    body: dict[str, Any],
    headers: dict[str, str],
    query: str,
    status: int,
    errors: set[str],
) -> None:
    run_id = world.launch(world.template())["id"]
    before = world.call("GET", f"/runs/{run_id}")
    response = world.call("PUT", f"/runs/{run_id}{query}", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert set(response.json()["errors"]) >= errors
    after = world.call("GET", f"/runs/{run_id}")
    assert (after.json(), after.headers["etag"]) == (before.json(), before.headers["etag"])


def test_lenient_requests_ignore_unknown_keys(world: World) -> None:
    run_id = world.launch(world.template())["id"]
    response = world.call("PUT", f"/runs/{run_id}", json={"name": "x", "bogus": 1})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["name"] == "x"


def test_an_organization_id_too_long_is_a_bad_request(world: World) -> None:
    response = world.client.put(
        f"/organizations/{'a' * 65}/runs/{'b' * 32}", json={}, headers=world.admin.headers
    )
    assert response.status_code == 400, response.text
    assert response.json() == {
        "error": True,
        "message": MALFORMED,
        "code": "BAD_REQUEST",
        "errors": {"org_id": ["String should have at most 64 characters"]},
    }


def test_preconditions_stale_any_and_current(world: World) -> None:
    run_id = world.launch(world.template())["id"]
    stale = world.call("PUT", f"/runs/{run_id}", json={"name": "x"}, headers={"If-Match": '"0"'})
    assert stale.status_code == 412
    assert stale.json() == {
        "error": True,
        "message": "The resource has changed since it was read (If-Match).",
        "code": "PRECONDITION_FAILED",
    }
    anything = world.call("PUT", f"/runs/{run_id}", json={"name": "y"}, headers={"If-Match": "*"})
    assert anything.status_code == 200
    current = anything.headers["etag"]
    ok = world.call("PUT", f"/runs/{run_id}", json={"name": "z"}, headers={"If-Match": current})
    assert ok.status_code == 200
    assert ok.headers["etag"] != current


def test_domain_errors_keep_their_shapes(world: World) -> None:
    missing = world.call("PUT", "/runs/" + "f" * 32, json={"name": "x"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "RESOURCE_NOT_FOUND"
    for body in ({}, {"name": 5}):
        unauthenticated = world.client.put(
            world.url("/runs/" + "f" * 32), json=body, headers={"Authorization": "Bearer nope"}
        )
        assert unauthenticated.status_code == 401
        assert unauthenticated.json() == {
            "error": True,
            "message": "Unauthenticated.",
            "code": "UNAUTHENTICATED",
        }


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


def test_a_request_under_a_root_path_is_routed(world: World, settings: Settings) -> None:
    run_id = world.launch(world.template())["id"]
    with TestClient(create_app(settings), root_path="/base") as client:
        response = client.put(
            "/base" + world.url(f"/runs/{run_id}"),
            json={"name": "Routed"},
            headers=world.admin.headers,
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["name"] == "Routed"


def _records(world: World, run_id: str) -> list[tuple[str, str | None, Any, Any]]:
    feed = world.call("GET", "/activity-feeds", params={"run_id": run_id, "verb": "updated"})
    assert feed.status_code == 200, feed.text
    return sorted(
        (r["verb"], r["field"], r["old_value"], r["new_value"])
        for r in flat_all(feed.json()["data"])
    )


def test_each_changed_field_leaves_one_record_and_a_no_op_none(world: World) -> None:
    run = world.launch(world.template())
    run_id = run["id"]
    assert world.call("PUT", f"/runs/{run_id}", json={}).status_code == 200
    assert _records(world, run_id) == []
    body = {"name": "Renamed", "summary": "s", "users": [world.standard.user_id]}
    assert world.call("PUT", f"/runs/{run_id}", json=body).status_code == 200
    assert world.call("PUT", f"/runs/{run_id}", json=body).status_code == 200  # no change
    assert _records(world, run_id) == [
        ("updated", "name", run["name"], "Renamed"),
        ("updated", "summary", None, "s"),
        ("updated", "users", [], [world.standard.user_id]),
    ]
