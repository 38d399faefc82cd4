"""`POST /organizations/{org}/runs/bulk-update`: many PUT bodies, per item or atomic."""

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from procflow.api.app import create_app
from procflow.settings import Settings
from tests.api.feed import flat_all
from tests.factories import World

NOT_APPLIED = {
    "error": True,
    "message": "Not applied: another item of this atomic request failed.",
    "code": "FAILED_DEPENDENCY",
}


def run_of(world: World, member: Any = None, **body: Any) -> dict[str, Any]:
    return world.launch(world.template(), member, **body)


def bulk(world: World, items: list[dict[str, Any]], member: Any = None, **kw: Any) -> Any:
    query = kw.pop("query", "")
    body = {"runs": items, **kw.pop("extra", {})}
    return world.call("POST", f"/runs/bulk-update{query}", member, json=body, **kw)


def get(world: World, run_id: str, query: str = "") -> Any:
    response = world.call("GET", f"/runs/{run_id}{query}")
    assert response.status_code == 200, response.text
    return response


def put(world: World, run_id: str, body: Any, member: Any = None, **kw: Any) -> Any:
    return world.call("PUT", f"/runs/{run_id}", member, json=body, **kw)


def changes(world: World, run_id: str) -> list[tuple[Any, ...]]:
    response = world.call(
        "GET",
        "/activity-feeds",
        params={"entity_type": "run", "entity_id": run_id, "verb": "updated", "per_page": 100},
    )
    assert response.status_code == 200, response.text
    return [(r["field"], r["old_value"], r["new_value"]) for r in flat_all(response.json()["data"])]


def test_every_item_is_applied_as_its_put_would_be(world: World) -> None:
    first, second = run_of(world), run_of(world)
    tag = world.tag()
    response = bulk(
        world,
        [
            {"id": first["id"], "name": "First, renamed", "tags": [tag]},
            {"id": second["id"], "summary": "Notes", "starred": True},
        ],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"] == {"succeeded": 2, "failed": 0, "not_applied": 0}
    assert [item["id"] for item in body["data"]] == [first["id"], second["id"]]
    for item in body["data"]:
        assert item["status"] == 200
        shown = get(world, item["id"])
        assert item["data"] == shown.json()["data"]
        assert item["etag"] == shown.headers["etag"]
    assert body["data"][0]["data"]["name"] == "First, renamed"
    assert body["data"][0]["data"]["tags"] == [tag]
    assert body["data"][1]["data"]["starred"] is True
    assert sorted(changes(world, first["id"])) == [
        ("name", first["name"], "First, renamed"),
        ("tags", [], [tag]),
    ]
    assert changes(world, second["id"]) != []


def test_per_item_failures_roll_back_only_themselves(world: World, other_world: World) -> None:
    good, invalid, stale, foreign = run_of(world), run_of(world), run_of(world), run_of(other_world)
    stale_tag = get(world, stale["id"]).headers["etag"]
    put(world, stale["id"], {"summary": "changed meanwhile"})
    missing = uuid4().hex
    response = bulk(
        world,
        [
            {"id": good["id"], "name": "Kept"},
            {"id": missing, "name": "Nope"},
            {"id": invalid["id"], "summary": "not written", "name": ""},
            {"id": stale["id"], "if_match": stale_tag, "name": "Stale"},
            {"id": foreign["id"], "name": "Theirs"},
            {"id": invalid["id"], "tags": [uuid4().hex], "summary": "not written either"},
        ],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["status"] for item in body["data"]] == [200, 404, 422, 412, 404, 422]
    assert body["meta"] == {"succeeded": 1, "failed": 5, "not_applied": 0}
    assert body["data"][1] == {
        "id": missing,
        "status": 404,
        "error": put(world, missing, {"name": "Nope"}).json(),
    }
    assert body["data"][2]["error"] == put(world, invalid["id"], {"name": ""}).json()
    assert body["data"][2]["error"]["errors"].keys() == {"name"}
    assert body["data"][3]["error"]["code"] == "PRECONDITION_FAILED"
    assert "tags.0" in body["data"][5]["error"]["errors"]
    assert get(world, good["id"]).json()["data"]["name"] == "Kept"
    assert get(world, invalid["id"]).json()["data"]["summary"] is None
    assert get(world, stale["id"]).json()["data"]["name"] == stale["name"]
    assert get(other_world, foreign["id"]).json()["data"]["name"] == foreign["name"]
    assert changes(world, invalid["id"]) == []


def test_a_failing_item_after_a_change_rolls_back_its_own_writes_only(world: World) -> None:
    run = run_of(world)
    missing_capture = uuid4().hex
    response = bulk(
        world,
        [
            {"id": run["id"], "name": "Applied"},
            {"id": run["id"], "name": "Refused", "taskdata": {missing_capture: "x"}},
        ],
        headers={"Prefer": "handling=strict"},
    )
    assert [item["status"] for item in response.json()["data"]] == [200, 422]
    assert get(world, run["id"]).json()["data"]["name"] == "Applied"


def test_later_items_see_earlier_ones_on_the_same_run(world: World) -> None:
    run = run_of(world)
    first = bulk(world, [{"id": run["id"], "name": "One"}]).json()["data"][0]
    response = bulk(
        world,
        [
            {"id": run["id"], "if_match": first["etag"], "name": "Two"},
            {"id": run["id"], "if_match": first["etag"], "name": "Three"},
        ],
    )
    assert [item["status"] for item in response.json()["data"]] == [200, 412]
    assert get(world, run["id"]).json()["data"]["name"] == "Two"


def test_a_no_op_item_moves_nothing(world: World) -> None:
    run = run_of(world, name="Same")
    before = get(world, run["id"])
    item = bulk(world, [{"id": run["id"], "name": "Same"}]).json()["data"][0]
    assert item["status"] == 200
    assert item["data"] == before.json()["data"]
    assert item["etag"] == before.headers["etag"]
    assert changes(world, run["id"]) == []


def test_includes_are_honoured_per_item(world: World) -> None:
    tag = world.tag("bulk")
    run = run_of(world)
    item = bulk(world, [{"id": run["id"], "tags": [tag]}], query="?with=tags").json()["data"][0]
    assert item["data"]["tags"]["data"][0]["title"] == "bulk"
    assert item["data"] == get(world, run["id"], "?with=tags").json()["data"]


def test_atomic_batch_applies_everything(world: World) -> None:
    first, second = run_of(world), run_of(world)
    response = bulk(
        world,
        [{"id": first["id"], "name": "A"}, {"id": second["id"], "name": "B"}],
        extra={"atomic": True},
    )
    assert response.status_code == 200, response.text
    assert response.json()["meta"] == {"succeeded": 2, "failed": 0, "not_applied": 0}
    assert get(world, first["id"]).json()["data"]["name"] == "A"
    assert get(world, second["id"]).json()["data"]["name"] == "B"


def test_atomic_batch_with_a_failure_writes_nothing(world: World) -> None:
    first, second = run_of(world), run_of(world)
    missing = uuid4().hex
    response = bulk(
        world,
        [
            {"id": first["id"], "name": "Not kept", "tags": [world.tag()]},
            {"id": second["id"], "name": ""},
            {"id": missing, "name": "x"},
        ],
        extra={"atomic": True},
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] is True
    assert body["code"] == "VALIDATION_FAILED"
    assert body["message"] == "Nothing was updated: 2 of 3 items failed."
    assert body["meta"] == {"succeeded": 0, "failed": 2, "not_applied": 1}
    assert body["data"][0] == {"id": first["id"], "status": 424, "error": NOT_APPLIED}
    assert body["data"][1]["status"] == 422
    assert "name" in body["data"][1]["error"]["errors"]
    assert body["data"][2]["status"] == 404
    assert get(world, first["id"]).json()["data"]["name"] == first["name"]
    assert get(world, first["id"]).json()["data"]["tags"] == []
    assert changes(world, first["id"]) == []


def test_atomic_failure_answers_with_the_first_failing_status(world: World) -> None:
    run = run_of(world)
    response = bulk(
        world,
        [{"id": uuid4().hex, "name": "x"}, {"id": run["id"], "name": ""}],
        extra={"atomic": True},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "RESOURCE_NOT_FOUND"


def test_light_members_are_refused_per_item_and_the_refusal_recorded(world: World) -> None:
    run = run_of(world, users=[world.light.user_id])
    response = bulk(world, [{"id": run["id"], "name": "Mine now"}], world.light)
    assert response.status_code == 200
    (item,) = response.json()["data"]
    assert item["status"] == 403
    assert item["error"]["code"] == "FORBIDDEN"
    assert get(world, run["id"]).json()["data"]["name"] == run["name"]
    denied = world.call("GET", "/activity-feeds", params={"verb": "denied", "per_page": 100})
    assert [r["run_id"] for r in denied.json()["data"]] == [run["id"]]


def test_standard_members_update_the_runs_they_may_update(world: World) -> None:
    theirs, admins = run_of(world, world.standard), run_of(world)
    response = bulk(
        world,
        [{"id": theirs["id"], "name": "Mine"}, {"id": admins["id"], "name": "Not mine"}],
        world.standard,
    )
    assert [item["status"] for item in response.json()["data"]] == [200, 403]
    assert get(world, admins["id"]).json()["data"]["name"] == admins["name"]


def test_another_organizations_path_is_403(world: World, other_world: World) -> None:
    run = run_of(other_world)
    response = world.client.post(
        f"/organizations/{other_world.org_id}/runs/bulk-update",
        headers=world.admin.headers,
        json={"runs": [{"id": run["id"], "name": "x"}]},
    )
    assert response.status_code == 403
    assert get(other_world, run["id"]).json()["data"]["name"] == run["name"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "runs"),
        ({"runs": []}, "runs"),
        ({"runs": "x"}, "runs"),
        ({"runs": [5]}, "runs.0"),
        ({"runs": [{"name": "no id"}]}, "runs.0.id"),
        ({"runs": [{"id": 7}]}, "runs.0.id"),
        ({"runs": [{"id": "x", "if_match": 3}]}, "runs.0.if_match"),
        ({"runs": [{"id": "x"}], "atomic": "yes"}, "atomic"),
    ],
)
def test_a_malformed_envelope_is_422_as_a_whole(
    world: World, body: dict[str, Any], field: str
) -> None:
    response = world.call("POST", "/runs/bulk-update", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_FAILED"
    assert field in response.json()["errors"], response.json()["errors"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"starred": "yes"}, "starred"),
        ({"owner_id": "1"}, "owner_id"),
        ({"tags": "x"}, "tags"),
        ({"users": [999_999]}, "users.0"),
    ],
)
def test_item_bodies_get_puts_validation(world: World, patch: dict[str, Any], field: str) -> None:
    run = run_of(world)
    (item,) = bulk(world, [{"id": run["id"], **patch}]).json()["data"]
    assert item["status"] == 422
    assert item["error"] == put(world, run["id"], patch).json()
    assert field in item["error"]["errors"]


def test_strict_mode_applies_to_items_and_envelope(world: World) -> None:
    run = run_of(world)
    strict = {"Prefer": "handling=strict"}
    (item,) = bulk(world, [{"id": run["id"], "colour": "red"}], headers=strict).json()["data"]
    assert item["status"] == 422
    assert item["error"]["errors"] == {"colour": ["This field is unknown or read-only."]}
    envelope = bulk(world, [{"id": run["id"]}], headers=strict, extra={"mode": "x"})
    assert envelope.status_code == 422
    assert "mode" in envelope.json()["errors"]
    (lenient,) = bulk(world, [{"id": run["id"], "colour": "red"}]).json()["data"]
    assert lenient["status"] == 200


@pytest.fixture
def limited(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"max_bulk_items": 2, "require_if_match": True}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_item_limit_and_required_if_match(world: World, limited: TestClient) -> None:
    run = run_of(world)
    url = f"/organizations/{world.org_id}/runs/bulk-update"
    items = [{"id": run["id"], "name": f"n{i}"} for i in range(3)]
    too_many = limited.post(url, headers=world.admin.headers, json={"runs": items})
    assert too_many.status_code == 422
    assert "runs" in too_many.json()["errors"]
    assert get(world, run["id"]).json()["data"]["name"] == run["name"]
    etag = get(world, run["id"]).headers["etag"]
    response = limited.post(
        url,
        headers=world.admin.headers,
        json={"runs": [{"id": run["id"], "name": "No tag"}, {"id": run["id"], "if_match": etag}]},
    )
    assert response.status_code == 200, response.text
    statuses = [
        (item["status"], item.get("error", {}).get("code")) for item in response.json()["data"]
    ]
    assert statuses == [(428, "PRECONDITION_REQUIRED"), (200, None)]


def test_default_limit_is_one_hundred(world: World) -> None:
    run = run_of(world)
    response = bulk(world, [{"id": run["id"]}] * 101)
    assert response.status_code == 422
    assert response.json()["errors"]["runs"] == ["At most 100 processes can be updated at once."]
