"""`PUT /organizations/{org}/runs/{run}`: every writable field, its errors, and its rules."""

from typing import Any
from uuid import uuid4

import pytest

from tests.factories import World

KICKOFF: list[dict[str, Any]] = [
    {"field_type": "text", "label": "Client"},
    {
        "field_type": "dropdown",
        "label": "Tier",
        "options": [{"id": 1, "text": "Gold"}, {"id": 2, "text": "Silver"}],
    },
]


def launch(world: World, **body: Any) -> dict[str, Any]:
    return world.launch(world.template(kickoff=[dict(f) for f in KICKOFF]), **body)


def put(world: World, run_id: str, body: Any, member: Any = None, **kwargs: Any) -> Any:
    return world.call("PUT", f"/runs/{run_id}", member, json=body, **kwargs)


def get(world: World, run_id: str, query: str = "") -> dict[str, Any]:
    response = world.call("GET", f"/runs/{run_id}{query}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def assert_invalid(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] is True
    assert body["code"] == "VALIDATION_FAILED"
    assert body["message"] == "The given data was invalid."
    assert field in body["errors"], body["errors"]
    assert all(isinstance(m, str) and m for m in body["errors"][field])


def test_response_is_the_whole_run_as_get_returns_it(world: World) -> None:
    run = launch(world)
    response = put(world, run["id"], {"name": "Renamed", "summary": "Notes"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": get(world, run["id"])}
    assert response.json()["data"]["name"] == "Renamed"


def test_seed_page_example_body(world: World) -> None:
    urgent, onboarding = world.tag("urgent"), world.tag("onboarding")
    run = launch(world)
    body = {
        "name": "Onboarding - Globex Corp (Updated)",
        "summary": "Updated summary notes for this run.",
        "tags": [urgent, onboarding],
        "prevent_guest_comment": True,
    }
    data = put(world, run["id"], body).json()["data"]
    assert data["name"] == body["name"]
    assert data["summary"] == body["summary"]
    assert data["tags"] == [urgent, onboarding]
    assert data["prevent_guest_comment"] is True


@pytest.mark.parametrize("value", ["x", "n" * 550, "Ünïcode ✓"])
def test_name_valid(world: World, value: str) -> None:
    run = launch(world)
    assert put(world, run["id"], {"name": value}).json()["data"]["name"] == value


@pytest.mark.parametrize("value", ["", "n" * 551, 123, None, ["a"], True])
def test_name_invalid_changes_nothing(world: World, value: Any) -> None:
    run = launch(world, name="Original")
    assert_invalid(put(world, run["id"], {"name": value, "summary": "also not written"}), "name")
    after = get(world, run["id"])
    assert after["name"] == "Original"
    assert after["summary"] is None
    assert after["last_updated"] == run["last_updated"]


def test_summary_set_and_cleared_with_null(world: World) -> None:
    run = launch(world)
    assert (
        put(world, run["id"], {"summary": "Some notes"}).json()["data"]["summary"] == "Some notes"
    )
    assert put(world, run["id"], {"summary": None}).json()["data"]["summary"] is None


@pytest.mark.parametrize("value", ["s" * 10_001, 5, {"text": "x"}])
def test_summary_invalid(world: World, value: Any) -> None:
    run = launch(world)
    assert_invalid(put(world, run["id"], {"summary": value}), "summary")


def test_owner_id_to_another_member(world: World) -> None:
    run = launch(world)
    data = put(world, run["id"], {"owner_id": world.standard.user_id}).json()["data"]
    assert data["owner_id"] == world.standard.user_id
    assert isinstance(data["owner_id"], int)


@pytest.mark.parametrize("value", [999_999, "1", 1.5, True, None, 0])
def test_owner_id_invalid(world: World, value: Any) -> None:
    run = launch(world)
    assert_invalid(put(world, run["id"], {"owner_id": value}), "owner_id")
    assert get(world, run["id"])["owner_id"] == world.admin.user_id


def test_owner_id_from_another_organization(world: World, other_world: World) -> None:
    run = launch(world)
    assert_invalid(put(world, run["id"], {"owner_id": other_world.admin.user_id}), "owner_id")


def test_tags_replace_the_list(world: World) -> None:
    one, two, three = world.tag(), world.tag(), world.tag()
    run = launch(world)
    assert put(world, run["id"], {"tags": [one, two]}).json()["data"]["tags"] == [one, two]
    assert put(world, run["id"], {"tags": [three, one]}).json()["data"]["tags"] == [one, three]
    assert put(world, run["id"], {"tags": []}).json()["data"]["tags"] == []


def test_tags_include_carries_association_ids(world: World) -> None:
    tag = world.tag("vip")
    run = launch(world)
    put(world, run["id"], {"tags": [tag]})
    included = get(world, run["id"], "?with=tags")["tags"]
    assert list(included) == ["data"]
    (item,) = included["data"]
    assert isinstance(item["id"], int)
    assert item["tag_id"] == tag
    assert item["title"] == "vip"


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (["f" * 32], "tags.0"),
        ("not-a-list", "tags"),
        ([1], "tags.0"),
        (None, "tags"),
    ],
)
def test_tags_invalid(world: World, value: Any, field: str) -> None:
    run = launch(world)
    assert_invalid(put(world, run["id"], {"tags": value}), field)


def test_tags_of_another_organization_are_unknown(world: World, other_world: World) -> None:
    mine, theirs = world.tag(), other_world.tag()
    run = launch(world)
    assert_invalid(put(world, run["id"], {"tags": [mine, theirs]}), "tags.1")
    assert get(world, run["id"])["tags"] == []


def test_tags_listed_twice(world: World) -> None:
    tag = world.tag()
    run = launch(world)
    assert_invalid(put(world, run["id"], {"tags": [tag, tag]}), "tags.1")


def test_too_many_tags(world: World) -> None:
    run = launch(world)
    assert_invalid(put(world, run["id"], {"tags": [f"{i:032x}" for i in range(101)]}), "tags")


def test_folders_replace_the_list(world: World) -> None:
    one, two = world.folder(), world.folder()
    run = launch(world)
    assert put(world, run["id"], {"folders": [one]}).json()["data"]["folders"] == [one]
    assert put(world, run["id"], {"folders": [two]}).json()["data"]["folders"] == [two]
    included = get(world, run["id"], "?with=folders")["folders"]["data"]
    assert [(type(i["id"]), i["folder_id"]) for i in included] == [(int, two)]
    assert put(world, run["id"], {"folders": []}).json()["data"]["folders"] == []


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (["0" * 32], "folders.0"),
        ({"id": "x"}, "folders"),
        (None, "folders"),
    ],
)
def test_folders_invalid(world: World, value: Any, field: str) -> None:
    run = launch(world)
    assert_invalid(put(world, run["id"], {"folders": value}), field)


def test_folder_of_another_organization(world: World, other_world: World) -> None:
    run = launch(world)
    assert_invalid(put(world, run["id"], {"folders": [other_world.folder()]}), "folders.0")


def test_users_replace_the_list(world: World) -> None:
    run = launch(world)
    both = [world.standard.user_id, world.light.user_id]
    assert put(world, run["id"], {"users": both}).json()["data"]["users"] == both
    only = [world.admin.user_id]
    assert put(world, run["id"], {"users": only}).json()["data"]["users"] == only


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ([999_999], "users.0"),
        (["1"], "users.0"),
        (None, "users"),
        (3, "users"),
    ],
)
def test_users_invalid(world: World, value: Any, field: str) -> None:
    run = launch(world)
    assert_invalid(put(world, run["id"], {"users": value}), field)


def test_users_from_another_organization(world: World, other_world: World) -> None:
    run = launch(world)
    assert_invalid(put(world, run["id"], {"users": [other_world.admin.user_id]}), "users.0")


def test_groups_empty_list_accepted_and_unknown_group_refused(world: World) -> None:
    run = launch(world)
    assert put(world, run["id"], {"groups": []}).status_code == 200
    assert_invalid(put(world, run["id"], {"groups": ["c" * 32]}), "groups.0")


def group(world: World) -> str:
    response = world.call("POST", "/groups", json={"name": f"g-{uuid4().hex[:8]}"})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def test_groups_replace_the_runs_groups(world: World) -> None:
    first, second, third = group(world), group(world), group(world)
    run = launch(world, groups=[first, second])
    assert run["groups"] == [first, second]
    updated = put(world, run["id"], {"groups": [third, first]})
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["groups"] == [third, first]
    assert get(world, run["id"])["groups"] == [third, first]
    assert put(world, run["id"], {"name": "Other"}).json()["data"]["groups"] == [third, first]
    assert put(world, run["id"], {"groups": []}).json()["data"]["groups"] == []


def test_groups_unchanged_list_moves_nothing(world: World) -> None:
    first = group(world)
    run = launch(world, groups=[first])
    again = put(world, run["id"], {"groups": [first]}).json()["data"]
    assert again["last_updated"] == run["last_updated"]


def test_groups_of_another_organization_refused(world: World, other_world: World) -> None:
    mine, theirs = group(world), group(other_world)
    run = launch(world, groups=[mine])
    response = put(world, run["id"], {"groups": [mine, theirs], "name": "Nope"})
    assert_invalid(response, "groups.1")
    assert get(world, run["id"])["groups"] == [mine]
    assert get(world, run["id"])["name"] == run["name"]
    launch_response = world.call(
        "POST", "/runs", json={"checklist_id": world.template(), "groups": [theirs]}
    )
    assert_invalid(launch_response, "groups.0")


@pytest.mark.parametrize("key", ["starred", "is_public", "prevent_guest_comment"])
def test_booleans(world: World, key: str) -> None:
    run = launch(world)
    assert put(world, run["id"], {key: True}).json()["data"][key] is True
    assert put(world, run["id"], {key: False}).json()["data"][key] is False


@pytest.mark.parametrize("key", ["starred", "is_public", "prevent_guest_comment"])
@pytest.mark.parametrize("value", [1, "true", None, "yes"])
def test_booleans_invalid(world: World, key: str, value: Any) -> None:
    run = launch(world)
    assert_invalid(put(world, run["id"], {key: value}), key)


def test_no_op_body_keeps_last_updated(world: World) -> None:
    run = launch(world, name="Same")
    first = put(world, run["id"], {})
    assert first.status_code == 200
    assert first.json()["data"]["last_updated"] == run["last_updated"]
    same = put(world, run["id"], {"name": "Same"}).json()["data"]
    assert same["last_updated"] == run["last_updated"]


def test_zero_byte_body_counts_as_empty_object(world: World) -> None:
    run = launch(world)
    response = world.call(
        "PUT",
        f"/runs/{run['id']}",
        content=b"",
        headers={**world.admin.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


def test_last_updated_moves_forward_on_every_change(world: World) -> None:
    run = launch(world)
    stamps = [run["last_updated"]]
    for index in range(5):
        stamps.append(put(world, run["id"], {"name": f"n{index}"}).json()["data"]["last_updated"])
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


def test_unknown_and_read_only_keys_are_ignored(world: World) -> None:
    run = launch(world)
    body = {
        "id": "f" * 32,
        "status": "complete",
        "created_at": "2000-01-01T00:00:00Z",
        "archived_at": "2000-01-01T00:00:00Z",
        "checklist_id": "e" * 32,
        "progress": 100,
        "is_admin": True,
        "name": "Kept",
    }
    data = put(world, run["id"], body).json()["data"]
    assert data["id"] == run["id"]
    assert data["status"] == "active"
    assert data["archived_at"] is None
    assert data["created_at"] == run["created_at"]
    assert data["checklist_id"] == run["checklist_id"]
    assert data["name"] == "Kept"


def test_strict_mode_refuses_unknown_and_read_only_keys(world: World) -> None:
    run = launch(world)
    response = put(
        world,
        run["id"],
        {"name": "x", "status": "complete", "colour": 1},
        headers={**world.admin.headers, "Prefer": "handling=strict"},
    )
    assert_invalid(response, "status")
    assert "colour" in response.json()["errors"]
    assert get(world, run["id"])["name"] == run["name"]


def test_unknown_run_is_404(world: World) -> None:
    response = put(world, "0" * 32, {"name": "x"})
    assert response.status_code == 404
    assert response.json() == {
        "error": True,
        "message": "Process not found",
        "code": "RESOURCE_NOT_FOUND",
    }


def test_run_of_another_organization_is_404(world: World, other_world: World) -> None:
    theirs = launch(other_world)
    response = put(world, theirs["id"], {"name": "hijacked"})
    assert response.status_code == 404
    assert response.json() == put(world, "0" * 32, {"name": "x"}).json()
    assert get(other_world, theirs["id"])["name"] == theirs["name"]


def test_organization_the_caller_is_not_in_is_403(world: World, other_world: World) -> None:
    theirs = launch(other_world)
    response = world.client.put(
        f"/organizations/{other_world.org_id}/runs/{theirs['id']}",
        json={"name": "x"},
        headers=world.admin.headers,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic abc", "Token x"])
def test_bad_credentials_are_401(world: World, header: str | None) -> None:
    run = launch(world)
    headers = {"Authorization": header} if header else {}
    response = world.client.put(
        world.url(f"/runs/{run['id']}"), json={"name": "x"}, headers=headers
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "error": True,
        "message": "Unauthenticated.",
        "code": "UNAUTHENTICATED",
    }


def test_roles(world: World) -> None:
    admin_run = launch(world)
    std = world.standard
    assert put(world, admin_run["id"], {"name": "by admin"}).status_code == 200
    assert put(world, admin_run["id"], {"name": "by std"}, std).status_code == 403
    assert put(world, admin_run["id"], {"name": "by light"}, world.light).status_code == 403
    own = world.launch(world.template(), std)
    assert put(world, own["id"], {"name": "mine"}, std).status_code == 200
    assert put(world, own["id"], {"name": "light"}, world.light).status_code == 403
    owned = launch(world, owner_id=std.user_id)
    assert put(world, owned["id"], {"name": "owner"}, std).status_code == 200
    assert get(world, admin_run["id"])["name"] == "by admin"


def test_standard_member_holding_a_task_may_update(world: World) -> None:
    template = world.template(steps=[{"title": "Review", "assignees": [world.standard.user_id]}])
    run = world.launch(template)
    assert put(world, run["id"], {"name": "helper"}, world.standard).status_code == 200


def test_light_member_cannot_update_even_own_task_run(world: World) -> None:
    template = world.template(steps=[{"title": "Review", "assignees": [world.light.user_id]}])
    run = world.launch(template)
    assert put(world, run["id"], {"name": "x"}, world.light).status_code == 403


def test_api_prefix_serves_the_same_handler(world: World) -> None:
    run = launch(world)
    response = world.client.put(
        f"/api/organizations/{world.org_id}/runs/{run['id']}",
        json={"name": "via api"},
        headers=world.admin.headers,
    )
    assert response.status_code == 200
    assert get(world, run["id"])["name"] == "via api"


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"name"', "application/json", 400),
        (b'{"name": NaN}', "application/json", 400),
        (b'{"name": "\xff"}', "application/json", 400),
        (b"name=x", "application/x-www-form-urlencoded", 415),
        (b"name", "text/plain", 415),
        (b"[" * 100 + b"]" * 100, "application/json", 400),
    ],
)
def test_malformed_bodies(world: World, content: bytes, content_type: str, status: int) -> None:
    run = launch(world)
    response = world.call(
        "PUT",
        f"/runs/{run['id']}",
        content=content,
        headers={**world.admin.headers, "Content-Type": content_type},
    )
    assert response.status_code == status, response.text
    assert response.json()["error"] is True
    assert get(world, run["id"])["last_updated"] == run["last_updated"]


def test_deep_nesting_inside_an_object(world: World) -> None:
    run = launch(world)
    deep = b'{"prerun": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}"
    response = world.call(
        "PUT",
        f"/runs/{run['id']}",
        content=deep,
        headers={**world.admin.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_oversized_body_is_413(world: World) -> None:
    run = launch(world)
    response = put(world, run["id"], {"summary": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_archived_run_can_still_be_read_and_updated(world: World) -> None:
    run = launch(world)
    archived = world.call("DELETE", f"/runs/{run['id']}").json()["data"]
    assert archived["status"] == "archived"
    assert put(world, run["id"], {"summary": "post-archive"}).status_code == 200


def test_empty_body_without_content_type(world: World) -> None:
    run = launch(world)
    response = world.client.put(world.url(f"/runs/{run['id']}"), headers=world.admin.headers)
    assert response.status_code == 200, response.text
    raw = world.client.put(
        world.url(f"/runs/{run['id']}"), content=b'{"name": "raw"}', headers=world.admin.headers
    )
    assert raw.json()["data"]["name"] == "raw"
