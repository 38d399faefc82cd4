"""One-off tasks (outside any process), the organization's task list, a member's tasks and
`/me/tasks`."""

from typing import Any

import pytest
from sqlalchemy import select

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Activity
from tests.api.test_tasks import TASK_KEYS
from tests.factories import Member, World


def create(world: World, member: Member | None = None, **body: Any) -> dict[str, Any]:
    payload = {
        "title": "Call the supplier",
        "task_type": "task",
        "owners": {"users": [world.standard.user_id], "guests": [], "groups": []},
        "deadline": "2030-05-01T12:00:00Z",
        **body,
    }
    response = world.call("POST", "/tasks", member, json=payload)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def verbs(world: World, task_id: str) -> list[str]:
    with UnitOfWork(world.factory, write=False) as uow:
        return list(
            uow.session.scalars(
                select(Activity.verb).where(Activity.object_id == task_id).order_by(Activity.id)
            )
        )


def test_create_shape(world: World) -> None:
    data = create(world, summary="Ask about prices", prevent_guest_comment=True)
    assert set(data) == TASK_KEYS
    assert data["is_oneoff_task"] is True
    assert data["run_id"] is None
    assert data["checklist_id"] is None
    assert data["title"] == "Call the supplier"
    assert data["summary"] == "Ask about prices"
    assert data["deadline"] == "2030-05-01T12:00:00.000Z"
    assert data["owners"] == {"users": [world.standard.user_id], "guests": [], "groups": []}
    assert data["status"] == "not-started"
    assert data["starter_id"] == world.admin.user_id
    assert data["taskdata"] == {}
    assert data["prevent_guest_comment"] is True
    assert verbs(world, data["id"]) == ["created"]
    fetched = world.call("GET", f"/tasks/{data['id']}").json()["data"]
    assert fetched == data


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 601}, "title"),
        ({"deadline": None}, "deadline"),
        ({"deadline": "soon"}, "deadline"),
        ({"owners": None}, "owners"),
        ({"owners": {"users": [987_654_321]}}, "owners.users.0"),
        ({"task_type": "chore"}, "task_type"),
    ],
)
def test_create_validation(world: World, body: dict[str, Any], field: str) -> None:
    payload = {
        "title": "T",
        "task_type": "task",
        "owners": {"users": [world.admin.user_id]},
        "deadline": "2030-01-01 00:00:00",
        **body,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    response = world.call("POST", "/tasks", json=payload)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]
    listing = world.call("GET", "/tasks").json()
    assert listing["meta"]["pagination"]["total"] == 0


def test_light_cannot_create(world: World) -> None:
    response = world.call(
        "POST",
        "/tasks",
        world.light,
        json={"title": "x", "owners": {"users": []}, "deadline": "2030-01-01T00:00:00Z"},
    )
    assert response.status_code == 403
    assert world.call("GET", "/tasks").json()["data"] == []


def test_update_complete_reopen(world: World) -> None:
    task = create(world)
    updated = world.call(
        "PUT", f"/tasks/{task['id']}", json={"title": "Call them again", "owners": {"users": []}}
    )
    assert updated.status_code == 200
    assert updated.json()["data"]["title"] == "Call them again"
    assert updated.json()["data"]["owners"]["users"] == []
    done = world.call("POST", "/completed-tasks", json={"task_id": task["id"]})
    assert done.status_code == 200
    data = done.json()["data"]
    assert data["status"] == "completed"
    assert "tasks_changed_by_rules" not in data
    assert world.call("POST", "/completed-tasks", json={"task_id": task["id"]}).status_code == 422
    reopened = world.call("DELETE", f"/completed-tasks/{task['id']}")
    assert reopened.status_code == 200
    assert reopened.json()["data"]["status"] == "in-progress"
    assert verbs(world, task["id"]) == [
        "created",
        "updated",
        "owners-updated",
        "completed",
        "re-opened",
    ]


def test_process_tasks_refused_on_oneoff_routes(world: World) -> None:
    run = world.launch(world.template())
    task = world.call("GET", f"/runs/{run['id']}/tasks").json()["data"][0]
    assert world.call("GET", f"/tasks/{task['id']}").status_code == 200
    assert world.call("POST", "/completed-tasks", json={"task_id": task["id"]}).status_code == 422
    assert world.call("DELETE", f"/tasks/{task['id']}").status_code == 422
    assert world.call("DELETE", f"/tasks/{task['id']}/delete").status_code == 422


def test_archive_restore_delete(world: World) -> None:
    task = create(world)
    assert world.call("DELETE", f"/tasks/{task['id']}", world.light).status_code == 403
    assert world.call("DELETE", f"/tasks/{task['id']}", world.standard).status_code == 403
    archived = world.call("DELETE", f"/tasks/{task['id']}")
    assert archived.status_code == 204
    assert archived.content == b""
    assert world.call("GET", "/tasks").json()["data"] == []
    only = world.call("GET", "/tasks?archived=only").json()["data"]
    assert [t["id"] for t in only] == [task["id"]]
    assert only[0]["archived_at"] is not None
    restored = world.call("PUT", f"/tasks/{task['id']}/restore")
    assert restored.status_code == 200
    assert restored.json()["data"]["archived_at"] is None
    assert world.call("DELETE", f"/tasks/{task['id']}/delete").status_code == 204
    assert world.call("GET", f"/tasks/{task['id']}").status_code == 404
    assert verbs(world, task["id"]) == ["created", "archived", "unarchived", "deleted"]


def test_creator_standard_may_archive(world: World) -> None:
    task = create(world, world.standard)
    assert world.call("DELETE", f"/tasks/{task['id']}", world.standard).status_code == 204


def test_oneoff_visibility_and_roles(world: World, other_world: World) -> None:
    task = create(world)
    assert world.call("GET", f"/tasks/{task['id']}", world.light).status_code == 403
    assert world.call("GET", "/tasks", world.light).json()["data"] == []
    assert (
        world.call(
            "POST", "/completed-tasks", world.light, json={"task_id": task["id"]}
        ).status_code
        == 403
    )
    assert world.call("GET", f"/tasks/{task['id']}").json()["data"]["status"] == "not-started"
    foreign = other_world.call("GET", f"/tasks/{task['id']}")
    assert foreign.status_code == 404
    assert other_world.call("DELETE", f"/tasks/{task['id']}").status_code == 404
    # The assignee (standard) may complete it.
    response = world.call("POST", "/completed-tasks", world.standard, json={"task_id": task["id"]})
    assert response.status_code == 200


def test_org_list_filters(world: World) -> None:
    first = create(world, title="Alpha report", deadline="2030-01-01T00:00:00Z")
    second = create(
        world,
        title="Beta report",
        deadline="2020-01-01T00:00:00Z",
        owners={"users": [world.light.user_id]},
    )
    run = world.launch(world.template())
    everything = world.call("GET", "/tasks").json()
    assert everything["meta"]["pagination"]["total"] == 3
    assert everything["data"][0]["id"] == second["id"]  # earliest deadline first
    oneoff = world.call("GET", "/tasks?is_oneoff=true").json()["data"]
    assert {t["id"] for t in oneoff} == {first["id"], second["id"]}
    process = world.call("GET", "/tasks?is_oneoff=false").json()["data"]
    assert [t["run_id"] for t in process] == [run["id"]]
    found = world.call("GET", "/tasks?q=alpha").json()["data"]
    assert [t["id"] for t in found] == [first["id"]]
    overdue = world.call("GET", "/tasks?status=overdue").json()["data"]
    assert [t["id"] for t in overdue] == [second["id"]]
    owned = world.call("GET", f"/tasks?owners={world.light.user_id}").json()["data"]
    assert [t["id"] for t in owned] == [second["id"]]
    light_view = world.call("GET", "/tasks", world.light).json()["data"]
    assert [t["id"] for t in light_view] == [second["id"]]
    paged = world.call("GET", "/tasks?per_page=1&page=2").json()
    assert paged["meta"]["pagination"]["current_page"] == 2
    assert paged["meta"]["pagination"]["count"] == 1


def test_me_tasks(world: World, client: Any) -> None:
    mine = create(world, owners={"users": [world.light.user_id]})
    create(world)
    done = create(world, owners={"users": [world.light.user_id]})
    world.call("POST", "/completed-tasks", json={"task_id": done["id"]})
    response = client.get("/me/tasks", headers=world.light.headers)
    assert response.status_code == 200
    body = response.json()
    assert [t["id"] for t in body["data"]] == [mine["id"]]
    assert body["meta"]["pagination"]["total"] == 1
    every = client.get("/me/tasks?status=all", headers=world.light.headers).json()["data"]
    assert {t["id"] for t in every} == {mine["id"], done["id"]}
    assert client.get("/api/me/tasks", headers=world.light.headers).status_code == 200
    assert client.get("/me/tasks").status_code == 401


def test_my_tasks_in_an_organization(world: World, other_world: World) -> None:
    """The path Tallyfy's clients call: only this organization's tasks of the caller."""
    mine = create(world, owners={"users": [world.light.user_id]})
    create(world)
    done = create(world, owners={"users": [world.light.user_id]})
    world.call("POST", "/completed-tasks", json={"task_id": done["id"]})
    response = world.call("GET", "/me/tasks", world.light)
    assert response.status_code == 200
    body = response.json()
    assert [t["id"] for t in body["data"]] == [mine["id"]]
    assert body["meta"]["pagination"]["total"] == 1
    every = world.call("GET", "/me/tasks?status=all", world.light).json()["data"]
    assert {t["id"] for t in every} == {mine["id"], done["id"]}
    admins = world.call("GET", "/me/tasks").json()["data"]
    assert mine["id"] not in {t["id"] for t in admins}
    elsewhere = world.client.get(
        f"/api/organizations/{other_world.org_id}/me/tasks", headers=world.light.headers
    )
    assert elsewhere.status_code == 403


def test_a_members_tasks(world: World, other_world: World) -> None:
    lights = create(world, owners={"users": [world.light.user_id]})
    standards = create(world)
    done = create(world, owners={"users": [world.light.user_id, world.standard.user_id]})
    world.call("POST", "/completed-tasks", json={"task_id": done["id"]})
    path = f"/users/{world.standard.user_id}/tasks"
    body = world.call("GET", path).json()
    assert [t["id"] for t in body["data"]] == [standards["id"]]
    assert all(set(t) == TASK_KEYS for t in body["data"])
    assert body["meta"]["pagination"]["total"] == 1
    every = world.call("GET", f"{path}?status=all&sort_by=newest").json()["data"]
    assert [t["id"] for t in every] == [done["id"], standards["id"]]
    # a light member sees another member's tasks only where the light member is involved
    light_view = world.call("GET", f"{path}?status=all", world.light).json()["data"]
    assert [t["id"] for t in light_view] == [done["id"]]
    own = world.call("GET", f"/users/{world.light.user_id}/tasks", world.light).json()["data"]
    assert [t["id"] for t in own] == [lights["id"]]
    for unknown in (other_world.admin.user_id, 2**31, 999_999):
        response = world.call("GET", f"/users/{unknown}/tasks")
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "RESOURCE_NOT_FOUND"
    group = world.call(
        "POST", "/groups", json={"name": "Buyers", "members": [world.standard.user_id]}
    )
    assert group.status_code == 201, group.text
    grouped = create(world, owners={"users": [], "groups": [group.json()["data"]["id"]]})
    assert world.call("DELETE", f"/users/{world.standard.user_id}/disable").status_code == 200
    listed = {t["id"] for t in world.call("GET", path).json()["data"]}
    assert listed == {standards["id"], grouped["id"]}
