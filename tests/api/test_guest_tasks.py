"""A guest reads, fills, completes and reopens the tasks assigned to it, and nothing else."""

from typing import Any
from uuid import uuid4

from sqlalchemy import select

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Activity, Guest, Task
from tests.api.feed import flat_all
from tests.factories import Member, World

PAT = "pat@example.com"
SAM = "sam@example.com"


def guest(world: World, email: str) -> Member:
    assert world.call("POST", "/guests", json={"email": email}).status_code == 201
    response = world.call("POST", f"/guests/{email}/token")
    assert response.status_code == 201, response.text
    return Member(user_id=0, token=response.json()["data"]["token"])


def guest_id(world: World, email: str) -> int:
    with UnitOfWork(world.factory, write=False) as uow:
        found = uow.session.scalar(
            select(Guest.id).where(Guest.org_id == world.org_id, Guest.email == email)
        )
        assert found is not None
        return found


def setup(world: World) -> tuple[str, str, list[str]]:
    """A run with Pat's task (one required field), Sam's task and a member's task."""
    capture = uuid4().hex
    template = world.template(
        steps=[
            {
                "title": "Sign",
                "guests": [PAT],
                "captures": [
                    {"id": capture, "field_type": "text", "label": "Name", "required": True}
                ],
            },
            {"title": "Review", "guests": [SAM]},
            {"title": "Internal", "assignees": [world.light.user_id]},
        ]
    )
    run = world.launch(template)
    with UnitOfWork(world.factory, write=False) as uow:
        ids = list(
            uow.session.scalars(
                select(Task.id).where(Task.run_id == run["id"]).order_by(Task.position)
            )
        )
    return run["id"], capture, ids


def progress(world: World, run_id: str) -> Any:
    return world.call("GET", f"/runs/{run_id}").json()["data"]["progress"]


def guest_records(world: World, task_id: str) -> list[tuple[str, str, int | None, str | None, Any]]:
    with UnitOfWork(world.factory, write=False) as uow:
        rows = uow.session.scalars(
            select(Activity).where(Activity.object_id == task_id).order_by(Activity.id)
        )
        return [(r.verb, r.actor_type, r.actor_id, r.field, r.new_value) for r in rows]


def test_guest_fills_completes_and_reopens_its_task(world: World) -> None:
    run_id, capture, (own, _, _) = setup(world)
    pat = guest(world, PAT)
    pat_id = guest_id(world, PAT)
    task_path = f"/runs/{run_id}/tasks/{own}"
    done_path = f"/runs/{run_id}/completed-tasks"

    read = world.call("GET", task_path, pat)
    assert read.status_code == 200, read.text
    assert read.json()["data"]["owners"]["guests"] == [PAT]
    assert world.call("GET", f"/tasks/{own}", pat).json()["data"]["id"] == own

    blocked = world.call("POST", done_path, pat, json={"task_id": own})
    assert blocked.status_code == 422
    assert list(blocked.json()["errors"]) == [f"taskdata.{capture}"]

    filled = world.call("PUT", task_path, pat, json={"taskdata": {capture: "Pat"}})
    assert filled.status_code == 200, filled.text
    assert filled.json()["data"]["taskdata"] == {capture: "Pat"}

    before = progress(world, run_id)
    done = world.call("POST", done_path, pat, json={"task_id": own})
    assert done.status_code == 200, done.text
    data = done.json()["data"]
    assert data["status"] == "completed"
    assert data["completer_id"] is None
    assert isinstance(data["completed_at"], str)
    assert data["tasks_changed_by_rules"] == {}
    after = progress(world, run_id)
    assert after != before
    assert after["complete"] == before["complete"] + 1
    with UnitOfWork(world.factory, write=False) as uow:
        task = uow.session.get(Task, own)
        assert task is not None
        assert (task.flags or {})["completer_guest_id"] == pat_id

    reopened = world.call("DELETE", f"{done_path}/{own}", pat)
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["data"]["status"] == "in-progress"
    assert progress(world, run_id) == before
    with UnitOfWork(world.factory, write=False) as uow:
        task = uow.session.get(Task, own)
        assert task is not None
        assert "completer_guest_id" not in (task.flags or {})

    assert guest_records(world, own) == [
        ("updated", "guest", pat_id, f"taskdata.{capture}", "Pat"),
        ("completed", "guest", pat_id, "status", "completed"),
        ("re-opened", "guest", pat_id, "status", "in-progress"),
    ]


def test_guest_reaches_only_its_own_tasks(world: World) -> None:
    run_id, _, (own, sams, internal) = setup(world)
    pat = guest(world, PAT)
    guest(world, SAM)
    for other in (sams, internal, uuid4().hex):
        assert world.call("GET", f"/runs/{run_id}/tasks/{other}", pat).status_code == 404
        assert world.call("GET", f"/tasks/{other}", pat).status_code == 404
        assert (
            world.call("PUT", f"/runs/{run_id}/tasks/{other}", pat, json={"taskdata": {}})
        ).status_code == 404
        done = world.call("POST", f"/runs/{run_id}/completed-tasks", pat, json={"task_id": other})
        assert done.status_code == 404
        assert (
            world.call("DELETE", f"/runs/{run_id}/completed-tasks/{other}", pat).status_code == 404
        )
        assert guest_records(world, other) == []
    assert world.call("GET", f"/runs/{uuid4().hex}/tasks/{own}", pat).status_code == 404
    assert world.call("GET", "/runs", pat).status_code == 401
    assert world.call("GET", f"/runs/{run_id}/tasks", pat).status_code == 401
    assert world.call("PUT", f"/tasks/{own}", pat, json={"taskdata": {}}).status_code == 401


def test_guest_may_change_only_taskdata(world: World) -> None:
    run_id, _, (own, _, _) = setup(world)
    pat = guest(world, PAT)
    path = f"/runs/{run_id}/tasks/{own}"
    refused = world.call("PUT", path, pat, json={"title": "Mine now"})
    assert refused.status_code == 403
    assert world.call("GET", path).json()["data"]["title"] == "Sign"
    assert guest_records(world, own) == []
    denied = flat_all(world.call("GET", "/activity-feeds?verb=denied").json()["data"])
    assert [(r["actor_type"], r["run_id"]) for r in denied] == [("App\\Models\\Guest", run_id)]


def test_members_keep_their_behaviour(world: World) -> None:
    run_id, capture, (own, _, internal) = setup(world)
    path = f"/runs/{run_id}/tasks/{own}"
    assert world.call("PUT", path, json={"taskdata": {capture: "Ada"}}).status_code == 200
    done = world.call("POST", f"/runs/{run_id}/completed-tasks", json={"task_id": own})
    assert done.json()["data"]["completer_id"] == world.admin.user_id
    assert world.call("GET", f"/runs/{run_id}/tasks/{internal}", world.light).status_code == 200


def test_disabled_guest_token_is_refused(world: World) -> None:
    run_id, _, (own, _, _) = setup(world)
    pat = guest(world, PAT)
    assert world.call("DELETE", f"/guests/{PAT}/disable").status_code == 200
    assert world.call("GET", f"/runs/{run_id}/tasks/{own}", pat).status_code == 401
    done = world.call("POST", f"/runs/{run_id}/completed-tasks", pat, json={"task_id": own})
    assert done.status_code == 401


def test_guest_includes_hide_what_guests_may_not_see(world: World) -> None:
    run_id, _, (own, _, _) = setup(world)
    pat = guest(world, PAT)
    for state in ("open", "hide-for-guests"):
        body = {"content": state, "state": state}
        assert world.call("POST", f"/tasks/{own}/comment", json=body).status_code == 201
    path = f"/runs/{run_id}/tasks/{own}?with=threads,run"
    mine = world.call("GET", path, pat).json()["data"]
    assert [c["content"] for c in mine["threads"]["data"]] == ["open"]
    assert mine["run"] == {"data": None}
    full = world.call("GET", path).json()["data"]
    assert [c["content"] for c in full["threads"]["data"]] == ["open", "hide-for-guests"]
    assert full["run"]["data"]["id"] == run_id


def test_guest_task_includes_leave_out_activities_and_hidden_comments(world: World) -> None:
    run_id, _, (own, _, _) = setup(world)
    pat = guest(world, PAT)
    for state in ("open", "hide-for-guests"):
        body = {"content": state, "state": state}
        assert world.call("POST", f"/tasks/{own}/comment", json=body).status_code == 201
    query = "comments,threads_count,issues,activities,run.checklist,tags"
    mine = world.call("GET", f"/runs/{run_id}/tasks/{own}?with={query}", pat).json()["data"]
    assert [c["content"] for c in mine["comments"]["data"]] == ["open"]
    assert (mine["threads_count"], mine["issues"], mine["tags"]) == (1, {"data": []}, {"data": []})
    assert mine["activities"] == {"data": []}
    assert mine["run"] == {"data": None}
    full = world.call("GET", f"/runs/{run_id}/tasks/{own}?with={query}").json()["data"]
    assert full["threads_count"] == 2
    assert full["run"]["data"]["checklist"]["data"]["id"]
