"""Tasks of a process: list, read, update, complete, reopen; roles; activity trail."""

from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Activity, Group
from tests.api.feed import flat_all
from tests.api.test_run_form_values import CASES
from tests.factories import Member, World

TASK_KEYS = {
    "id",
    "increment_id",
    "title",
    "original_title",
    "run_id",
    "checklist_id",
    "step_id",
    "linked_step_id",
    "alias",
    "summary",
    "task_type",
    "status",
    "status_label",
    "position",
    "blueprint_position",
    "owners",
    "deadline",
    "started_at",
    "completed_at",
    "completer_id",
    "completer_guest",
    "starter_id",
    "is_approved",
    "is_oneoff_task",
    "is_completable",
    "problem",
    "max_assignable",
    "prevent_guest_comment",
    "due_date_passed",
    "created_at",
    "last_updated",
    "archived_at",
    "run_status",
    "taskdata",
    "stage_id",
    "everyone_must_complete",
    "can_complete_only_assignees",
    "top_secret",
    "allow_guest_owners",
    "is_soft_start_date",
    "send_chromeless",
    "webhook",
}


def three_step_run(world: World, member: Member | None = None) -> tuple[dict[str, Any], str]:
    capture = uuid4().hex
    template = world.template(
        steps=[
            {
                "title": "First",
                "captures": [
                    {"id": capture, "field_type": "text", "label": "Name", "required": True}
                ],
            },
            {"title": "Second"},
            {"title": "Approve", "step_type": "approval"},
        ]
    )
    return world.launch(template, member), capture


def tasks_of(world: World, run_id: str, member: Member | None = None) -> list[dict[str, Any]]:
    response = world.call("GET", f"/runs/{run_id}/tasks", member)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def activities(world: World, object_id: str) -> list[Activity]:
    with UnitOfWork(world.factory, write=False) as uow:
        return list(
            uow.session.scalars(
                select(Activity).where(Activity.object_id == object_id).order_by(Activity.id)
            )
        )


def test_list_shape_and_paging(world: World) -> None:
    run, capture = three_step_run(world)
    response = world.call("GET", f"/runs/{run['id']}/tasks?per_page=2")
    assert response.status_code == 200
    body = response.json()
    assert [t["title"] for t in body["data"]] == ["First", "Second"]
    pagination = body["meta"]["pagination"]
    assert pagination["total"] == 3
    assert pagination["count"] == 2
    assert pagination["total_pages"] == 2
    assert "next" in pagination["links"]
    first = body["data"][0]
    assert set(first) == TASK_KEYS
    assert first["run_id"] == run["id"]
    assert first["checklist_id"] == run["checklist_id"]
    assert first["status"] == "not-started"
    assert first["owners"] == {"users": [world.admin.user_id], "guests": [], "groups": []}
    assert first["taskdata"] == {capture: None}
    assert first["is_oneoff_task"] is False
    unpaged = world.call("GET", f"/runs/{run['id']}/tasks?without_pagination=true").json()
    assert len(unpaged["data"]) == 3
    assert unpaged["meta"]["pagination"]["total_pages"] == 1


def test_list_sort_and_filters(world: World) -> None:
    run, _ = three_step_run(world)
    ids = [t["id"] for t in tasks_of(world, run["id"])]
    rev = world.call("GET", f"/runs/{run['id']}/tasks?sort=-position").json()["data"]
    assert [t["id"] for t in rev] == ids[::-1]
    world.call("POST", f"/runs/{run['id']}/completed-tasks", json={"task_id": ids[1]})
    complete = world.call("GET", f"/runs/{run['id']}/tasks?status=complete").json()["data"]
    assert [t["id"] for t in complete] == [ids[1]]
    active = world.call("GET", f"/runs/{run['id']}/tasks?status=active").json()["data"]
    assert [t["id"] for t in active] == [ids[0], ids[2]]
    world.call(
        "PUT",
        f"/runs/{run['id']}/tasks/{ids[0]}",
        json={"owners": {"users": [world.standard.user_id]}, "deadline": "2020-01-01 10:00:00"},
    )
    mine = world.call("GET", f"/runs/{run['id']}/tasks?owners={world.standard.user_id}")
    assert [t["id"] for t in mine.json()["data"]] == [ids[0]]
    overdue = world.call("GET", f"/runs/{run['id']}/tasks?status=overdue").json()["data"]
    assert [t["id"] for t in overdue] == [ids[0]]
    before = world.call(
        "GET", f"/runs/{run['id']}/tasks?deadline_before=2021-01-01T00:00:00Z"
    ).json()["data"]
    assert [t["id"] for t in before] == [ids[0]]
    world.call("PUT", f"/runs/{run['id']}/tasks/{ids[2]}", json={"owners": {"users": []}})
    unassigned = world.call("GET", f"/runs/{run['id']}/tasks?unassigned=true").json()["data"]
    assert [t["id"] for t in unassigned] == [ids[2]]
    assert world.call("GET", f"/runs/{run['id']}/tasks?owners=x").status_code == 400


def test_get_with_includes(world: World) -> None:
    run, capture = three_step_run(world)
    task = tasks_of(world, run["id"])[0]
    response = world.call("GET", f"/runs/{run['id']}/tasks/{task['id']}?with=form_fields,run,step")
    assert response.status_code == 200
    data = response.json()["data"]
    (field,) = data["form_fields"]["data"]
    assert field["id"] == capture
    assert field["required"] is True
    assert data["run"]["data"]["id"] == run["id"]
    assert data["step"]["data"]["id"] == task["step_id"]
    plain = world.call("GET", f"/tasks/{task['id']}").json()["data"]
    assert set(plain) == TASK_KEYS
    assert "form_fields" not in plain


def test_unknown_and_foreign_ids_are_404(world: World, other_world: World) -> None:
    run, _ = three_step_run(world)
    task = tasks_of(world, run["id"])[0]
    other_run, _ = three_step_run(other_world)
    other_task = tasks_of(other_world, other_run["id"])[0]
    missing = "0" * 32
    for method, path, body in [
        ("GET", f"/runs/{run['id']}/tasks/{missing}", None),
        ("GET", f"/runs/{run['id']}/tasks/{other_task['id']}", None),
        ("GET", f"/runs/{other_run['id']}/tasks", None),
        ("GET", f"/runs/{other_run['id']}/tasks/{other_task['id']}", None),
        ("PUT", f"/runs/{run['id']}/tasks/{other_task['id']}", {"title": "x"}),
        ("DELETE", f"/runs/{run['id']}/completed-tasks/{other_task['id']}", None),
        ("GET", f"/tasks/{other_task['id']}", None),
        ("GET", f"/tasks/{missing}", None),
    ]:
        response = world.call(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["code"] == "RESOURCE_NOT_FOUND"
    completing = world.call(
        "POST", f"/runs/{run['id']}/completed-tasks", json={"task_id": other_task["id"]}
    )
    assert completing.status_code == 422
    assert list(completing.json()["errors"]) == ["task_id"]
    unknown_run = world.call(
        "POST", f"/runs/{missing}/completed-tasks", json={"task_id": task["id"]}
    )
    assert unknown_run.status_code == 404
    other_run_task = world.call("GET", f"/runs/{other_run['id']}/tasks/{task['id']}")
    assert other_run_task.status_code == 404


def test_update_fields_and_activity(world: World) -> None:
    run, capture = three_step_run(world)
    task = tasks_of(world, run["id"])[0]
    group_id = _group(world)
    body = {
        "title": "Renamed",
        "summary": "Why",
        "deadline": "2030-01-02T03:04:05+01:00",
        "owners": {
            "users": [world.standard.user_id],
            "guests": ["Guest@Example.com"],
            "groups": [group_id],
        },
        "taskdata": {capture: "Ada", "f" * 32: "ignored"},
        "position": 7,
        "prevent_guest_comment": True,
    }
    response = world.call("PUT", f"/runs/{run['id']}/tasks/{task['id']}", json=body)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["title"] == "Renamed"
    assert data["summary"] == "Why"
    assert data["deadline"] == "2030-01-02T02:04:05.000Z"
    assert data["owners"] == {
        "users": [world.standard.user_id],
        "guests": ["guest@example.com"],
        "groups": [group_id],
    }
    assert data["taskdata"] == {capture: "Ada"}
    assert data["position"] == 7
    assert data["prevent_guest_comment"] is True
    records = {(a.verb, a.field): a for a in activities(world, task["id"])}
    assert set(records) == {
        ("updated", "title"),
        ("updated", "summary"),
        ("updated", "deadline"),
        ("updated", "position"),
        ("updated", "prevent_guest_comment"),
        ("updated", f"taskdata.{capture}"),
        ("owners-updated", "owners"),
    }
    assert records[("updated", "title")].old_value == "First"
    assert records[("updated", "title")].new_value == "Renamed"
    assert records[("updated", f"taskdata.{capture}")].new_value == "Ada"
    assert records[("owners-updated", "owners")].old_value["users"] == [world.admin.user_id]
    after = world.call("GET", f"/runs/{run['id']}").json()["data"]
    assert after["last_updated"] > run["last_updated"]
    again = world.call("PUT", f"/runs/{run['id']}/tasks/{task['id']}", json=body)
    assert again.json()["data"]["last_updated"] == data["last_updated"]
    assert len(activities(world, task["id"])) == 7


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 601}, "title"),
        ({"title": None}, "title"),
        ({"deadline": "tomorrow"}, "deadline"),
        ({"owners": {"users": [999_999_999]}}, "owners.users.0"),
        ({"owners": {"users": ["1"]}}, "owners.users"),
        ({"owners": {"guests": ["not-an-email"]}}, "owners.guests.0"),
        ({"owners": {"groups": ["f" * 32]}}, "owners.groups.0"),
        ({"owners": "me"}, "owners"),
        ({"position": "1"}, "position"),
    ],
)
def test_update_validation(world: World, body: dict[str, Any], field: str) -> None:
    run, _ = three_step_run(world)
    task = tasks_of(world, run["id"])[0]
    response = world.call(
        "PUT", f"/runs/{run['id']}/tasks/{task['id']}", json={"summary": "no", **body}
    )
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]
    assert world.call("GET", f"/tasks/{task['id']}").json()["data"] == task | {
        "taskdata": task["taskdata"]
    }
    assert activities(world, task["id"]) == []


@pytest.mark.parametrize("field_type", sorted(CASES))
def test_taskdata_validated_per_type(world: World, field_type: str) -> None:
    capture = uuid4().hex
    extra, valid, invalid = CASES[field_type]
    template = world.template(
        steps=[
            {
                "title": "Fill",
                "captures": [{"id": capture, "field_type": field_type, "label": "A", **extra}],
            }
        ]
    )
    run = world.launch(template)
    task = tasks_of(world, run["id"])[0]
    path = f"/runs/{run['id']}/tasks/{task['id']}"
    for bad in invalid:
        response = world.call("PUT", path, json={"taskdata": {capture: bad}})
        assert response.status_code == 422, (bad, response.text)
        assert list(response.json()["errors"]) == [f"taskdata.{capture}"]
    sent, stored = valid[0]
    response = world.call("PUT", path, json={"taskdata": {capture: sent}})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["taskdata"] == {capture: stored}


def test_complete_and_reopen(world: World) -> None:
    run, capture = three_step_run(world)
    first, second, approval = tasks_of(world, run["id"])
    path = f"/runs/{run['id']}/completed-tasks"
    blocked = world.call("POST", path, json={"task_id": first["id"]})
    assert blocked.status_code == 422
    assert list(blocked.json()["errors"]) == [f"taskdata.{capture}"]
    no_verdict = world.call("POST", path, json={"task_id": approval["id"]})
    assert no_verdict.status_code == 422
    assert list(no_verdict.json()["errors"]) == ["is_approved"]
    done = world.call("POST", path, json={"task_id": second["id"]})
    assert done.status_code == 200
    data = done.json()["data"]
    assert set(data) == TASK_KEYS | {"tasks_changed_by_rules"}
    assert data["tasks_changed_by_rules"] == {}
    assert data["status"] == "completed"
    assert data["completer_id"] == world.admin.user_id
    assert data["completed_at"] is not None
    assert data["is_completable"] is False
    twice = world.call("POST", path, json={"task_id": second["id"]})
    assert twice.status_code == 422
    locked = world.call(
        "PUT", f"/runs/{run['id']}/tasks/{second['id']}", json={"title": "late edit"}
    )
    assert locked.status_code == 422
    approved = world.call("POST", path, json={"task_id": approval["id"], "is_approved": False})
    assert approved.json()["data"]["is_approved"] is False
    reopened = world.call("DELETE", f"{path}/{approval['id']}")
    assert reopened.status_code == 200
    data = reopened.json()["data"]
    assert data["status"] == "in-progress"
    assert data["completed_at"] is None
    assert data["completer_id"] is None
    assert data["is_approved"] is None
    assert data["tasks_changed_by_rules"] == {}
    not_done = world.call("DELETE", f"{path}/{first['id']}")
    assert not_done.status_code == 422
    assert world.call("POST", path, json={}).status_code == 422


def _group(world: World, members: list[int] | None = None) -> str:
    from procflow.storage.models import GroupMember

    with UnitOfWork(world.factory, write=True) as uow:
        group = Group(org_id=world.org_id, name=f"g-{uuid4().hex[:8]}")
        uow.session.add(group)
        uow.session.flush()
        for user_id in members or []:
            uow.session.add(GroupMember(group_id=group.id, user_id=user_id))
        return group.id


def test_role_matrix(world: World) -> None:
    run, _ = three_step_run(world)
    _, second, _ = tasks_of(world, run["id"])
    path = f"/runs/{run['id']}/completed-tasks"
    task_path = f"/runs/{run['id']}/tasks/{second['id']}"
    # Not assigned, not the run owner: standard may read but not act; light may not read.
    denied = world.call("POST", path, world.standard, json={"task_id": second["id"]})
    assert denied.status_code == 403
    assert world.call("PUT", task_path, world.standard, json={"title": "no"}).status_code == 403
    assert world.call("GET", task_path, world.standard).status_code == 200
    assert world.call("GET", task_path, world.light).status_code == 403
    assert world.call("GET", f"/runs/{run['id']}/tasks", world.light).status_code == 403
    assert world.call("GET", task_path).json()["data"]["status"] == "not-started"
    assert activities(world, second["id"]) == []
    # Assigned: light may complete and fill in, but not change the task's properties.
    world.call("PUT", task_path, json={"owners": {"users": [world.light.user_id]}})
    assert world.call("PUT", task_path, world.light, json={"title": "no"}).status_code == 403
    filled = world.call("PUT", task_path, world.light, json={"taskdata": {}})
    assert filled.status_code == 200
    light_done = world.call("POST", path, world.light, json={"task_id": second["id"]})
    assert light_done.status_code == 200
    assert light_done.json()["data"]["completer_id"] == world.light.user_id
    assert world.call("DELETE", f"{path}/{second['id']}", world.light).status_code == 200
    # Through a group: standard may act.
    group_id = _group(world, [world.standard.user_id])
    world.call("PUT", task_path, json={"owners": {"groups": [group_id]}})
    assert (
        world.call("POST", path, world.standard, json={"task_id": second["id"]}).status_code == 200
    )
    assert world.call("DELETE", f"{path}/{second['id']}", world.light).status_code == 403


def test_run_owner_standard_may_act(world: World) -> None:
    run, _ = three_step_run(world, world.standard)
    second = tasks_of(world, run["id"])[1]
    world.call("PUT", f"/runs/{run['id']}/tasks/{second['id']}", json={"owners": {"users": []}})
    response = world.call(
        "POST", f"/runs/{run['id']}/completed-tasks", world.standard, json={"task_id": second["id"]}
    )
    assert response.status_code == 200


def feed(world: World, run_id: str) -> list[dict[str, Any]]:
    """The run's activity feed as a client reads it, newest first."""
    response = world.call("GET", f"/activity-feeds?entity_type=run&entity_id={run_id}&per_page=100")
    assert response.status_code == 200, response.text
    return flat_all(response.json()["data"])


def _run_state(world: World, run_id: str) -> dict[str, Any]:
    data: dict[str, Any] = world.call("GET", f"/runs/{run_id}?with=next_task").json()["data"]
    return data


def test_whole_process_end_to_end(world: World) -> None:
    """Launch, fill every field type, complete each task, reopen one, finish the run."""
    kinds = sorted(CASES)
    captures = {kind: uuid4().hex for kind in kinds}
    half = len(kinds) // 2
    steps: list[dict[str, Any]] = [
        {
            "title": "Collect part one",
            "captures": [
                {"id": captures[k], "field_type": k, "label": k, "required": True, **CASES[k][0]}
                for k in kinds[:half]
            ],
        },
        {
            "title": "Collect part two",
            "captures": [
                {"id": captures[k], "field_type": k, "label": k, "required": True, **CASES[k][0]}
                for k in kinds[half:]
            ],
        },
        {"title": "Sign off", "step_type": "approval"},
    ]
    run = world.launch(world.template(steps=steps))
    tasks = tasks_of(world, run["id"])
    assert [t["title"] for t in tasks] == ["Collect part one", "Collect part two", "Sign off"]
    state = _run_state(world, run["id"])
    assert state["status"] == "active"
    assert state["progress"] == {"complete": 0, "total": 3, "percent": 0.0}
    assert state["next_task"]["data"][0]["id"] == tasks[0]["id"]
    version_stamp = state["last_updated"]
    expected_progress = [33.33, 66.67, 100.0]
    for index, (task, group) in enumerate(
        zip(tasks[:2], (kinds[:half], kinds[half:]), strict=True)
    ):
        values = {captures[k]: CASES[k][1][0][0] for k in group}
        stored = {captures[k]: CASES[k][1][0][1] for k in group}
        filled = world.call(
            "PUT", f"/runs/{run['id']}/tasks/{task['id']}", json={"taskdata": values}
        )
        assert filled.status_code == 200, filled.text
        assert filled.json()["data"]["taskdata"] == stored
        done = world.call(
            "POST", f"/runs/{run['id']}/completed-tasks", json={"task_id": task["id"]}
        )
        assert done.status_code == 200, done.text
        state = _run_state(world, run["id"])
        assert state["progress"]["complete"] == index + 1
        assert state["progress"]["percent"] == expected_progress[index]
        assert state["status"] == "active"
        assert state["next_task"]["data"][0]["id"] == tasks[index + 1]["id"]
        assert state["completed_at"] is None
        assert state["last_updated"] > version_stamp
        version_stamp = state["last_updated"]
    # A problem on the sign-off task holds the whole run until it is resolved.
    feed_before = len(feed(world, run["id"]))
    problem = world.call(
        "POST", f"/tasks/{tasks[2]['id']}/problem", json={"content": "Missing signature"}
    )
    assert problem.status_code == 201, problem.text
    state = _run_state(world, run["id"])
    assert state["status"] == "problem"
    assert state["has_open_issue"] is True
    resolved = world.call(
        "POST",
        f"/tasks/{tasks[2]['id']}/resolved-threads",
        json={"thread_id": problem.json()["data"]["id"], "content": "Signed now"},
    )
    assert resolved.status_code == 201, resolved.text
    state = _run_state(world, run["id"])
    assert state["status"] == "active"
    assert state["has_open_issue"] is False
    verbs = [r["verb"] for r in feed(world, run["id"])[: -feed_before or None]]
    assert {"issue-reported", "issue-resolved"} <= set(verbs)
    signoff = world.call(
        "POST",
        f"/runs/{run['id']}/completed-tasks",
        json={"task_id": tasks[2]["id"], "is_approved": True},
    )
    assert signoff.json()["data"]["is_approved"] is True
    state = _run_state(world, run["id"])
    assert state["status"] == "complete"
    assert state["progress"]["percent"] == 100.0
    assert state["next_task"]["data"] == []
    assert state["completed_at"] is not None
    # Reopen the first task: the run is active again, and its first task is next.
    world.call("DELETE", f"/runs/{run['id']}/completed-tasks/{tasks[0]['id']}")
    state = _run_state(world, run["id"])
    assert state["status"] == "active"
    assert state["completed_at"] is None
    assert state["progress"]["complete"] == 2
    assert state["next_task"]["data"][0]["id"] == tasks[0]["id"]
    again = world.call(
        "POST", f"/runs/{run['id']}/completed-tasks", json={"task_id": tasks[0]["id"]}
    )
    assert again.status_code == 200
    final = _run_state(world, run["id"])
    assert final["status"] == "complete"
    assert final["completed_at"] is not None
    assert final["progress"] == {"complete": 3, "total": 3, "percent": 100.0}
    # The trail: one record per change, with old and new values.
    first_trail = [
        (a.verb, a.field, a.old_value, a.new_value) for a in activities(world, tasks[0]["id"])
    ]
    assert first_trail == [
        *[("updated", f"taskdata.{captures[k]}", None, CASES[k][1][0][1]) for k in kinds[:half]],
        ("completed", "status", "not-started", "completed"),
        ("re-opened", "status", "completed", "in-progress"),
        ("completed", "status", "in-progress", "completed"),
    ]
    run_trail = [(a.verb, a.object_type) for a in activities(world, run["id"])]
    assert run_trail == [
        ("created", "run"),
        ("completed", "run"),
        ("re-opened", "run"),
        ("completed", "run"),
    ]
