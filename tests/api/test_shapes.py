"""Bodies exactly as Tallyfy's clients and documented examples read them: task keys taken
from the step, the task and run includes, activity items, the organization, and the
statuses of invite and guest deletion."""

from typing import Any
from unittest.mock import ANY

from procflow.api.schemas.activity import ActivityList
from procflow.api.schemas.guests import GuestEnvelope
from tests.api.feed import flat
from tests.factories import World

HOOK = "https://hooks.example.com/task"


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def items(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def flagged_run(world: World) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A run of two steps: the first with every inherited setting on, the second plain."""
    flags = {
        "everyone_must_complete": True,
        "can_complete_only_assignees": True,
        "top_secret": True,
        "allow_guest_owners": True,
        "is_soft_start_date": True,
        "send_chromeless": True,
        "prevent_guest_comment": True,
    }
    template = world.template(
        steps=[{"title": "Flagged", "flags": flags, "webhook": HOOK}, {"title": "Plain"}]
    )
    run = world.launch(template)
    return run, items(world.call("GET", f"/runs/{run['id']}/tasks"))


def one_off_task(world: World) -> dict[str, Any]:
    return {
        "title": "Call",
        "owners": {"users": [world.standard.user_id], "guests": []},
        "deadline": "2030-01-01T10:00:00Z",
    }


def test_tasks_show_their_steps_settings_as_at_launch(world: World) -> None:
    run, (flagged, plain) = flagged_run(world)
    assert {key: flagged[key] for key in SETTINGS} == {
        "everyone_must_complete": True,
        "can_complete_only_assignees": True,
        "top_secret": True,
        "allow_guest_owners": True,
        "is_soft_start_date": True,
        "send_chromeless": True,
        "webhook": HOOK,
        "stage_id": None,
    }
    assert {key: plain[key] for key in SETTINGS} == UNSET
    assert flagged["prevent_guest_comment"] is True
    one_off = ok(world.call("POST", "/tasks", json=one_off_task(world)), 201)
    assert {key: one_off[key] for key in SETTINGS} == UNSET
    single = ok(world.call("GET", f"/tasks/{flagged['id']}"))
    assert single["webhook"] == HOOK
    assert ok(world.call("GET", f"/runs/{run['id']}/tasks/{flagged['id']}"))["top_secret"] is True


SETTINGS = (
    "everyone_must_complete",
    "can_complete_only_assignees",
    "top_secret",
    "allow_guest_owners",
    "is_soft_start_date",
    "send_chromeless",
    "webhook",
    "stage_id",
)
UNSET = dict.fromkeys(SETTINGS, False) | {"webhook": None, "stage_id": None}


def test_task_owners_users_are_bare_ids(world: World) -> None:
    """The clients agree on ids (the SDK's `TaskOwners.users: List[int]`, the MCP server
    sending the read owners back); one documented example shows objects, another ids."""
    created = world.call(
        "POST",
        "/tasks",
        json=one_off_task(world),
    )
    owners = ok(created, 201)["owners"]
    assert owners == {"users": [world.standard.user_id], "guests": [], "groups": []}


def test_task_includes_with_comments_activities_and_empty_collections(world: World) -> None:
    run, (task, _plain) = flagged_run(world)
    path = f"/tasks/{task['id']}/comment"
    first = ok(world.call("POST", path, json={"content": "Hello"}), 201)
    problem = ok(world.call("POST", f"/tasks/{task['id']}/problem", json={"content": "Stuck"}), 201)
    ok(world.call("PUT", f"/runs/{run['id']}/tasks/{task['id']}", json={"title": "Renamed"}))
    query = "threads,comments,issues,threads_count,activities,tags,assets,member_watchers"
    data = ok(world.call("GET", f"/tasks/{task['id']}?with={query}"))
    assert [c["id"] for c in data["comments"]["data"]] == [first["id"], problem["id"]]
    assert data["threads"] == data["comments"]
    assert [c["id"] for c in data["issues"]["data"]] == [problem["id"]]
    assert data["threads_count"] == 2
    for name in ("tags", "assets", "member_watchers"):
        assert data[name] == {"data": []}
    records = [flat(item) for item in data["activities"]["data"]]
    assert [(r["verb"], r["field"], r["new_value"]) for r in records] == [
        ("updated", "title", "Renamed")
    ]
    assert records[0]["auditable_id"] == task["id"]
    plain = ok(world.call("GET", f"/tasks/{task['id']}"))
    assert not {"comments", "activities", "threads_count", "tags", "assets"} & set(plain)


def test_nested_includes_and_lists(world: World) -> None:
    run, (task, plain) = flagged_run(world)
    ok(world.call("POST", f"/tasks/{plain['id']}/comment", json={"content": "Hi"}), 201)
    data = ok(world.call("GET", f"/tasks/{task['id']}?with=run.checklist,member_watchers.watcher"))
    embedded = data["run"]["data"]
    assert embedded["id"] == run["id"]
    assert embedded["checklist"]["data"]["id"] == run["checklist_id"]
    assert data["member_watchers"] == {"data": []}
    listed = world.call("GET", f"/runs/{run['id']}/tasks?with=threads_count,comments,run.checklist")
    counts = {t["id"]: t["threads_count"] for t in items(listed)}
    assert counts == {task["id"]: 0, plain["id"]: 1}
    assert all(t["run"]["data"]["checklist"]["data"] for t in items(listed))
    mine = world.call("GET", "/me/tasks?with=threads_count,tags,activities&status=all")
    assert all(t["threads_count"] == 0 or t["id"] == plain["id"] for t in items(mine))
    assert all(t["tags"] == {"data": []} and "data" in t["activities"] for t in items(mine))


def test_run_includes_tallyfy_lists(world: World) -> None:
    run, (task, _plain) = flagged_run(world)
    ok(world.call("POST", f"/runs/{run['id']}/completed-tasks", json={"task_id": task["id"]}))
    query = "assets,permissions,tasks_meta,stages,member_watchers,guest_watchers"
    data = ok(world.call("GET", f"/runs/{run['id']}?with={query}"))
    for name in ("assets", "permissions", "stages", "member_watchers", "guest_watchers"):
        assert data[name] == {"data": []}
    assert data["tasks_meta"] == {
        "data": {"total": 2, "completed": 1, "incomplete": 1, "late": 0, "has_open_issue": False}
    }
    plain = ok(world.call("GET", f"/runs/{run['id']}"))
    assert not {"assets", "permissions", "tasks_meta", "stages"} & set(plain)


def test_activity_item_is_tallyfys_documented_shape(world: World) -> None:
    run, (task, _plain) = flagged_run(world)
    ok(world.call("PUT", f"/runs/{run['id']}/tasks/{task['id']}", json={"title": "Renamed"}))
    response = world.call("GET", "/activity-feeds", params={"entity_type": "task"})
    ActivityList.model_validate(response.json())  # the OpenAPI document's model holds
    item = items(response)[0]
    assert item == {
        "id": ANY,
        "organization_id": world.org_id,
        "verb": ["updated"],
        "source": ["Member"],
        "actor_type": ["App\\Models\\User"],
        "actor_id": [world.admin.user_id],
        "actor": [
            {
                "id": world.admin.user_id,
                "email": ANY,
                "username": ANY,
                "first_name": ANY,
                "last_name": ANY,
                "full_name": ANY,
                "profile_pic": None,
                "resize_profile_pic": None,
            }
        ],
        "type": ["Task"],
        "auditable_type": "App\\Models\\Task",
        "auditable_id": task["id"],
        "parentable_type": "App\\Models\\Run",
        "parentable_id": run["id"],
        "field": ["title"],
        "old_value": ["Flagged"],
        "new_value": ["Renamed"],
        "description": ["Task title updated"],
        "text": ["Task title updated"],
        "references": None,
        "undoable": False,
        "audit": {"data": {"id": task["id"], "type": "Task"}},
        "parent": {"data": {"id": run["id"], "type": "Process"}},
        "origin": None,
        "object_type": "task",
        "object_id": task["id"],
        "run_id": run["id"],
        "created_at": ANY,
    }


def test_organization_has_every_key_of_the_sdk_model(world: World) -> None:
    data = ok(world.call("GET", ""))
    assert (data["id"], data["users_count"], data["user_role"]) == (world.org_id, 3, "admin")
    assert (data["timezone"], data["created_on"]) == ("UTC", data["created_at"])
    assert data["working_days"] is None
    assert data["cadence_days"] == []
    assert ok(world.call("GET", "", world.light))["user_role"] == "light"
    ok(world.call("DELETE", f"/users/{world.light.user_id}/disable"))
    assert ok(world.call("GET", ""))["users_count"] == 2
    listed = world.client.get("/me/organizations", headers=world.admin.headers).json()["data"]
    assert listed == [ok(world.call("GET", ""))]


def test_invite_answers_200_and_guest_deletion_the_guest(world: World) -> None:
    invited = world.call("POST", "/users/invite", json={"email": "new@example.com"})
    assert invited.status_code == 200, invited.text
    assert invited.json()["data"]["email"] == "new@example.com"
    guest = ok(world.call("POST", "/guests", json={"email": "g@example.com"}), 201)
    gone = world.call("DELETE", "/guests/g@example.com")
    assert gone.status_code == 200
    GuestEnvelope.model_validate(gone.json())
    assert gone.json() == {"data": guest}
    assert world.call("DELETE", "/guests/g@example.com").status_code == 404


def test_included_records_and_the_entity_tag(world: World) -> None:
    """Comments move the task's tag, so `comments` may be answered 304; activity records
    (a refused request writes one without changing the task) never are."""
    _run, (task, _plain) = flagged_run(world)
    path = f"/tasks/{task['id']}"
    etag = world.call("GET", path).headers["ETag"]
    fresh = {"If-None-Match": etag}
    assert world.call("GET", f"{path}?with=comments", headers=fresh).status_code == 304
    assert world.call("GET", f"{path}?with=activities", headers=fresh).status_code == 200
    assert world.call("GET", f"{path}?with=run.checklist", headers=fresh).status_code == 200
    ok(world.call("POST", f"{path}/comment", json={"content": "New"}), 201)
    again = world.call("GET", f"{path}?with=comments", headers=fresh)
    assert again.status_code == 200
    assert [c["content"] for c in again.json()["data"]["comments"]["data"]] == ["New"]
