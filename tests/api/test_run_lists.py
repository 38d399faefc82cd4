"""Atomic list edits on a run: `POST /runs/{id}/{tags,folders,users,groups}` and
`DELETE /runs/{id}/{list}/{item}`: one item each, idempotent, conditional, audited."""

import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from procflow.api.app import create_app
from procflow.domain.permissions import Caller, Role
from procflow.services import run_labels
from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from tests.api.feed import flat_all
from tests.factories import World

LISTS = ("tags", "folders", "users", "groups")
BODY_KEY = {"tags": "tag_id", "folders": "folder_id", "users": "user_id", "groups": "group_id"}


def group(world: World) -> str:
    response = world.call("POST", "/groups", json={"name": f"g-{uuid4().hex[:8]}"})
    assert response.status_code == 201, response.text
    group_id: str = response.json()["data"]["id"]
    return group_id


def new_item(world: World, kind: str) -> Any:
    """A fresh item of the organization that can go on a run's `kind` list."""
    if kind == "tags":
        return world.tag()
    if kind == "folders":
        return world.folder()
    if kind == "users":
        return world.light.user_id
    return group(world)


def run_of(world: World, member: Any = None, **body: Any) -> dict[str, Any]:
    return world.launch(world.template(), member, **body)


def add(world: World, run_id: str, kind: str, item: Any, member: Any = None, **kw: Any) -> Any:
    query = kw.pop("query", "")
    return world.call(
        "POST", f"/runs/{run_id}/{kind}{query}", member, json={BODY_KEY[kind]: item}, **kw
    )


def remove(world: World, run_id: str, kind: str, item: Any, member: Any = None, **kw: Any) -> Any:
    query = kw.pop("query", "")
    return world.call("DELETE", f"/runs/{run_id}/{kind}/{item}{query}", member, **kw)


def get(world: World, run_id: str, query: str = "") -> Any:
    response = world.call("GET", f"/runs/{run_id}{query}")
    assert response.status_code == 200, response.text
    return response


def records(world: World, run_id: str) -> list[tuple[Any, ...]]:
    response = world.call(
        "GET",
        "/activity-feeds",
        params={"entity_type": "run", "entity_id": run_id, "sort": "created_at", "per_page": 100},
    )
    assert response.status_code == 200, response.text
    return [
        (r["verb"], r["field"], r["old_value"], r["new_value"])
        for r in flat_all(response.json()["data"])
        if r["field"] in LISTS
    ]


def assert_invalid(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert body["message"] == "The given data was invalid."
    assert field in body["errors"], body["errors"]


@pytest.mark.parametrize("kind", LISTS)
def test_add_then_remove_answers_the_whole_run_as_get_does(world: World, kind: str) -> None:
    run = run_of(world)
    item = new_item(world, kind)
    added = add(world, run["id"], kind, item)
    assert added.status_code == 200, added.text
    assert added.headers["content-type"] == "application/json"
    assert added.json() == get(world, run["id"]).json()
    assert added.json()["data"][kind] == [item]
    assert added.json()["data"]["last_updated"] > run["last_updated"]
    removed = remove(world, run["id"], kind, item)
    assert removed.status_code == 200, removed.text
    assert removed.json() == get(world, run["id"]).json()
    assert removed.json()["data"][kind] == []


@pytest.mark.parametrize("kind", LISTS)
def test_edits_keep_the_rest_of_the_list_and_add_last(world: World, kind: str) -> None:
    first, second = new_item(world, kind), new_item(world, kind)
    if kind == "users":
        second = world.standard.user_id
    run = run_of(world, **{kind: [first]})
    data = add(world, run["id"], kind, second).json()["data"]
    assert data[kind] == [first, second]
    data = remove(world, run["id"], kind, first).json()["data"]
    assert data[kind] == [second]
    data = add(world, run["id"], kind, first).json()["data"]
    assert data[kind] == [second, first]


@pytest.mark.parametrize("kind", LISTS)
def test_repeating_an_edit_changes_nothing(world: World, kind: str) -> None:
    run = run_of(world)
    item = new_item(world, kind)
    first = add(world, run["id"], kind, item)
    again = add(world, run["id"], kind, item)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert records(world, run["id"]) == [("updated", kind, [], [item])]
    gone = remove(world, run["id"], kind, item)
    gone_again = remove(world, run["id"], kind, item)
    assert gone_again.status_code == 200
    assert gone_again.json() == gone.json()
    assert gone_again.headers["etag"] == gone.headers["etag"]
    assert gone.json()["data"]["last_updated"] > first.json()["data"]["last_updated"]
    assert records(world, run["id"]) == [
        ("updated", kind, [], [item]),
        ("updated", kind, [item], []),
    ]


def test_removing_what_was_never_there_moves_nothing(world: World) -> None:
    run = run_of(world)
    before = get(world, run["id"]).json()
    for kind, item in (
        ("tags", world.tag()),
        ("folders", uuid4().hex),
        ("users", 999_999),
        ("groups", "nonsense"),
    ):
        response = remove(world, run["id"], kind, item)
        assert response.status_code == 200, response.text
        assert response.json() == before
    assert records(world, run["id"]) == []


def test_includes_are_honoured(world: World) -> None:
    run = run_of(world)
    tag = world.tag("urgent")
    response = add(world, run["id"], "tags", tag, query="?with=tags,folders,tasks")
    data = response.json()["data"]
    assert data["tags"]["data"][0]["tag_id"] == tag
    assert data["tags"]["data"][0]["title"] == "urgent"
    assert data["folders"] == {"data": []}
    assert "data" in data["tasks"]
    assert response.json() == get(world, run["id"], "?with=tags,folders,tasks").json()


def test_served_under_api_too(world: World) -> None:
    run = run_of(world)
    tag = world.tag()
    response = world.client.post(
        f"/api/organizations/{world.org_id}/runs/{run['id']}/tags",
        headers=world.admin.headers,
        json={"tag_id": tag},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["tags"] == [tag]


def test_existing_run_routes_are_not_shadowed(world: World) -> None:
    run = run_of(world)
    assert world.call("GET", f"/runs/{run['id']}/tasks").status_code == 200
    assert world.call("GET", f"/runs/{run['id']}/tags").status_code == 405
    assert world.call("PUT", f"/runs/{run['id']}", json={"name": "Still"}).status_code == 200


def test_etag_moves_with_a_change_and_if_match_guards_it(world: World) -> None:
    run = run_of(world)
    first_tag, second_tag = world.tag(), world.tag()
    first = add(world, run["id"], "tags", first_tag)
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    stale = add(world, run["id"], "tags", second_tag, headers={"If-Match": '"stale"'})
    assert stale.status_code == 412, stale.text
    assert stale.json()["code"] == "PRECONDITION_FAILED"
    assert get(world, run["id"]).json() == first.json()
    weak = remove(world, run["id"], "tags", first_tag, headers={"If-Match": f"W/{etag}"})
    assert weak.status_code == 412
    fresh = add(world, run["id"], "tags", second_tag, headers={"If-Match": etag})
    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["etag"] != etag
    anything = remove(world, run["id"], "tags", first_tag, headers={"If-Match": "*"})
    assert anything.status_code == 200
    assert anything.json()["data"]["tags"] == [second_tag]


def test_the_etag_of_a_get_is_what_if_match_compares_with(world: World) -> None:
    run = run_of(world)
    read = get(world, run["id"])
    added = add(
        world,
        run["id"],
        "users",
        world.standard.user_id,
        headers={"If-Match": read.headers["etag"]},
    )
    assert added.status_code == 200, added.text
    assert added.headers["etag"] == get(world, run["id"]).headers["etag"]
    again = add(
        world, run["id"], "groups", group(world), headers={"If-Match": read.headers["etag"]}
    )
    assert again.status_code == 412


def test_a_no_op_with_a_stale_if_match_is_still_412(world: World) -> None:
    tag = world.tag()
    run = run_of(world, tags=[tag])
    response = add(world, run["id"], "tags", tag, headers={"If-Match": '"old"'})
    assert response.status_code == 412


@pytest.mark.parametrize("kind", LISTS)
def test_unknown_or_foreign_item_is_422_naming_the_field(
    world: World, other_world: World, kind: str
) -> None:
    run = run_of(world)
    before = get(world, run["id"]).json()
    unknown = 999_999 if kind == "users" else uuid4().hex
    assert_invalid(add(world, run["id"], kind, unknown), BODY_KEY[kind])
    foreign = other_world.admin.user_id if kind == "users" else new_item(other_world, kind)
    assert_invalid(add(world, run["id"], kind, foreign), BODY_KEY[kind])
    assert get(world, run["id"]).json() == before
    assert records(world, run["id"]) == []


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("tags", {}),
        ("tags", {"tag_id": 5}),
        ("tags", {"tag_id": None}),
        ("tags", {"tag_id": ["a"]}),
        ("tags", {"tag_id": "x" * 65}),
        ("folders", {"folder_id": True}),
        ("users", {"user_id": "5"}),
        ("users", {"user_id": 1.5}),
        ("users", {"user_id": 0}),
        ("users", {"user_id": True}),
        ("groups", {"group_id": {"id": "x"}}),
    ],
)
def test_wrong_body_types_are_422(world: World, kind: str, body: dict[str, Any]) -> None:
    run = run_of(world)
    response = world.call("POST", f"/runs/{run['id']}/{kind}", json=body)
    assert_invalid(response, BODY_KEY[kind])


def test_body_must_be_a_json_object(world: World) -> None:
    run = run_of(world)
    response = world.call("POST", f"/runs/{run['id']}/tags", json=["x"])
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


def test_strict_mode_refuses_unknown_keys(world: World) -> None:
    run = run_of(world)
    tag = world.tag()
    response = world.call(
        "POST",
        f"/runs/{run['id']}/tags",
        json={"tag_id": tag, "colour": "red"},
        headers={"Prefer": "handling=strict"},
    )
    assert_invalid(response, "colour")
    lenient = world.call("POST", f"/runs/{run['id']}/tags", json={"tag_id": tag, "colour": "red"})
    assert lenient.status_code == 200


def test_malformed_user_id_in_path_is_400(world: World) -> None:
    run = run_of(world)
    response = world.call("DELETE", f"/runs/{run['id']}/users/abc")
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("kind", LISTS)
def test_unknown_and_foreign_runs_are_404(world: World, other_world: World, kind: str) -> None:
    item = new_item(world, kind)
    theirs = run_of(other_world)
    for run_id in (uuid4().hex, theirs["id"]):
        for response in (add(world, run_id, kind, item), remove(world, run_id, kind, item)):
            assert response.status_code == 404, response.text
            assert response.json()["code"] == "RESOURCE_NOT_FOUND"
    assert get(other_world, theirs["id"]).json()["data"][kind] == []


def test_another_organizations_path_is_403(world: World, other_world: World) -> None:
    run = run_of(other_world)
    response = world.client.post(
        f"/organizations/{other_world.org_id}/runs/{run['id']}/tags",
        headers=world.admin.headers,
        json={"tag_id": other_world.tag()},
    )
    assert response.status_code == 403


@pytest.mark.parametrize("kind", LISTS)
def test_light_members_may_not_edit(world: World, kind: str) -> None:
    item = new_item(world, kind)
    run = run_of(world, users=[world.light.user_id], **({kind: [item]} if kind != "users" else {}))
    for response in (
        add(world, run["id"], kind, new_item(world, kind), world.light),
        remove(world, run["id"], kind, item, world.light),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "FORBIDDEN"
    assert records(world, run["id"]) == []


def test_standard_members_edit_runs_they_started_only(world: World) -> None:
    tag = world.tag()
    theirs = run_of(world, world.standard)
    assert add(world, theirs["id"], "tags", tag, world.standard).status_code == 200
    assert remove(world, theirs["id"], "tags", tag, world.standard).status_code == 200
    admins = run_of(world)
    refused = add(world, admins["id"], "tags", tag, world.standard)
    assert refused.status_code == 403
    assert get(world, admins["id"]).json()["data"]["tags"] == []


def test_a_refusal_is_recorded(world: World) -> None:
    run = run_of(world)
    add(world, run["id"], "tags", world.tag(), world.light)
    response = world.call("GET", "/activity-feeds", params={"verb": "denied", "per_page": 100})
    denied = [r for r in flat_all(response.json()["data"]) if r["run_id"] == run["id"]]
    assert len(denied) == 1
    assert denied[0]["actor_id"] == world.light.user_id


def test_the_activity_record_names_actor_field_and_lists(world: World) -> None:
    run = run_of(world, world.standard)
    folder = world.folder()
    add(world, run["id"], "folders", folder, world.standard)
    response = world.call(
        "GET", "/activity-feeds", params={"entity_type": "run", "entity_id": run["id"]}
    )
    (record,) = [r for r in flat_all(response.json()["data"]) if r["field"] == "folders"]
    assert record["actor_id"] == world.standard.user_id
    assert record["verb"] == "updated"
    assert (record["old_value"], record["new_value"]) == ([], [folder])


def caller_of(world: World) -> Caller:
    return Caller(user_id=world.admin.user_id, org_id=world.org_id, role=Role.ADMIN)


def in_parallel(world: World, first: Callable[[UnitOfWork], Any], second: Any) -> None:
    """`first` changes the run and holds its transaction open while `second` starts."""
    changed, errors = threading.Event(), []

    def hold() -> None:
        try:
            with UnitOfWork(world.factory, write=True) as uow:
                first(uow)
                changed.set()
                time.sleep(0.4)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
            changed.set()

    def follow() -> None:
        changed.wait(5)
        try:
            with UnitOfWork(world.factory, write=True) as uow:
                second(uow)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hold), threading.Thread(target=follow)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []


def test_concurrent_adds_of_different_tags_both_survive(world: World) -> None:
    run = run_of(world)
    first_tag, second_tag = world.tag(), world.tag()
    caller = caller_of(world)

    def adding(tag: str) -> Callable[[UnitOfWork], Any]:
        return lambda uow: run_labels.add_item(uow, caller, run["id"], run_labels.TAGS, tag)

    in_parallel(world, adding(first_tag), adding(second_tag))
    assert get(world, run["id"]).json()["data"]["tags"] == [first_tag, second_tag]
    assert records(world, run["id"]) == [
        ("updated", "tags", [], [first_tag]),
        ("updated", "tags", [first_tag], [first_tag, second_tag]),
    ]


def test_concurrent_adds_of_the_same_tag_add_it_once(world: World) -> None:
    run = run_of(world)
    tag = world.tag()
    caller = caller_of(world)

    def adding(uow: UnitOfWork) -> None:
        run_labels.add_item(uow, caller, run["id"], run_labels.TAGS, tag)

    in_parallel(world, adding, adding)
    assert get(world, run["id"]).json()["data"]["tags"] == [tag]
    assert records(world, run["id"]) == [("updated", "tags", [], [tag])]


def test_a_list_grows_to_the_limit_put_allows_and_no_further(world: World) -> None:
    tags = [world.tag() for _ in range(100)]
    run = run_of(world, tags=tags[:99])
    assert add(world, run["id"], "tags", tags[99]).status_code == 200
    assert add(world, run["id"], "tags", tags[0]).status_code == 200
    refused = add(world, run["id"], "tags", world.tag())
    assert_invalid(refused, "tag_id")
    assert refused.json()["errors"]["tag_id"] == ["A process may have at most 100 tags."]
    assert get(world, run["id"]).json()["data"]["tags"] == tags


def test_if_match_can_be_required(world: World, settings: Settings) -> None:
    run = run_of(world)
    tag = world.tag()
    app = create_app(settings.model_copy(update={"require_if_match": True}))
    url = f"/organizations/{world.org_id}/runs/{run['id']}/tags"
    with TestClient(app, raise_server_exceptions=False) as client:
        refused = client.post(url, headers=world.admin.headers, json={"tag_id": tag})
        assert refused.status_code == 428
        assert refused.json()["code"] == "PRECONDITION_REQUIRED"
        etag = get(world, run["id"]).headers["etag"]
        headers = {**world.admin.headers, "If-Match": etag}
        assert client.post(url, headers=headers, json={"tag_id": tag}).status_code == 200


def test_a_light_member_who_owns_the_run_still_may_not_edit(world: World) -> None:
    run = run_of(world, owner_id=world.light.user_id)
    assert world.call("GET", f"/runs/{run['id']}", world.light).status_code == 200
    refused = add(world, run["id"], "tags", world.tag(), world.light)
    assert refused.status_code == 403
    assert refused.json()["message"] == "You don't have permission to update this process."
