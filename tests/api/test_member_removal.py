"""`DELETE /organizations/{org}/users/{id}` with Tallyfy's `with_reassignment` and `to`.

What happens to the removed member's tasks, processes, templates, step assignments,
groups and tokens (docs/compatibility.md, "Removing a member").
"""

from typing import Any

from sqlalchemy import select

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Activity, Checklist, Step
from tests.factories import Member, World


def assert_invalid(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert field in body["errors"], body["errors"]


def owners(world: World, run_id: str) -> list[dict[str, Any]]:
    tasks = world.call("GET", f"/runs/{run_id}/tasks").json()["data"]
    return [task["owners"] for task in tasks]


def user_ids(owner_lists: dict[str, Any]) -> list[int]:
    return [u if isinstance(u, int) else u["id"] for u in owner_lists["users"]]


def setup_work(world: World) -> dict[str, Any]:
    """The standard member holds two open tasks and one completed task of a process they
    own, is assigned on a template step, owns a template, and is in a group."""
    std = world.standard.user_id
    template = world.template(
        steps=[
            {"title": "First", "assignees": [std]},
            {"title": "Second", "assignees": [std, world.admin.user_id]},
            {"title": "Third", "assignees": [std, world.light.user_id]},
        ]
    )
    with UnitOfWork(world.factory, write=True) as uow:
        uow.session.get_one(Checklist, template).owner_id = std
    run = world.launch(template, world.standard)
    tasks = world.call("GET", f"/runs/{run['id']}/tasks").json()["data"]
    done = world.call(
        "POST",
        f"/runs/{run['id']}/completed-tasks",
        world.standard,
        json={"task_id": tasks[0]["id"]},
    )
    assert done.status_code == 200, done.text
    group = world.call("POST", "/groups", json={"name": "Team", "members": [std]})
    assert group.status_code == 201, group.text
    return {"template": template, "run": run["id"], "group": group.json()["data"]["id"]}


def test_removal_without_reassignment_deactivates_and_moves_nothing(world: World) -> None:
    work = setup_work(world)
    std = world.standard.user_id
    assert world.call("GET", "/runs", world.standard).status_code == 200
    before = owners(world, work["run"])
    response = world.call("DELETE", f"/users/{std}")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["id"], data["status"], data["active"]) == (std, "disabled", False)
    # the token no longer opens this organization, from the very next request
    refused = world.call("GET", "/runs", world.standard)
    assert refused.status_code == 403
    assert refused.json()["code"] == "FORBIDDEN"
    # Tallyfy: nothing moves on its own; the tasks keep the deactivated member
    assert owners(world, work["run"]) == before
    run = world.call("GET", f"/runs/{work['run']}").json()["data"]
    assert run["owner_id"] == std
    group = world.call("GET", f"/groups/{work['group']}").json()["data"]
    assert std in group["members"]
    assert world.call("GET", f"/users/{std}").json()["data"]["status"] == "disabled"
    # enabling gives everything back
    assert world.call("PUT", f"/users/{std}/enable").status_code == 200
    assert world.call("GET", "/runs", world.standard).status_code == 200


def test_removal_with_reassignment_moves_open_work_to_the_target(world: World) -> None:
    work = setup_work(world)
    std, light = world.standard.user_id, world.light.user_id
    response = world.call("DELETE", f"/users/{std}?with_reassignment=true&to={light}")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "disabled"
    first, second, third = (user_ids(o) for o in owners(world, work["run"]))
    assert first == [std]  # completed: history keeps who held it
    assert sorted(second) == sorted([light, world.admin.user_id])
    assert third == [light]  # already held by the target: held once
    run = world.call("GET", f"/runs/{work['run']}").json()["data"]
    assert run["owner_id"] == light
    with UnitOfWork(world.factory, write=False) as uow:
        assert uow.session.get_one(Checklist, work["template"]).owner_id == light
        steps = uow.session.scalars(
            select(Step).where(Step.checklist_id == work["template"]).order_by(Step.position)
        )
        assert [s.assignees for s in steps] == [
            [light],
            [light, world.admin.user_id],
            [light],
        ]
        verbs = set(
            uow.session.scalars(
                select(Activity.field).where(
                    Activity.org_id == world.org_id, Activity.verb == "updated"
                )
            )
        )
        removed = uow.session.scalar(
            select(Activity).where(Activity.org_id == world.org_id, Activity.verb == "removed")
        )
    assert {"owners", "owner_id", "assignees"} <= verbs
    assert removed is not None
    assert removed.object_id == str(std)
    feed = world.call("GET", "/activity-feeds?per_page=100")
    assert feed.status_code == 200
    assert "removed" in feed.text
    light_tasks = world.call("GET", "/me/tasks", world.light).json()["data"]
    assert len([t for t in light_tasks if t["run_id"] == work["run"]]) == 2


def test_reassignment_to_an_unusable_member_is_refused_and_changes_nothing(
    world: World, other_world: World
) -> None:
    work = setup_work(world)
    std = world.standard.user_id
    before = owners(world, work["run"])
    world.call("DELETE", f"/users/{world.light.user_id}")  # a disabled member
    cases = [
        ("?with_reassignment=true", "to"),
        ("?with_reassignment=true&to=", "to"),
        ("?with_reassignment=true&to=abc", "to"),
        ("?with_reassignment=true&to=-3", "to"),
        ("?with_reassignment=true&to=%D9%A1", "to"),
        ("?with_reassignment=TRUE&to=1", "with_reassignment"),
        ("?with_reassignment=true&to=99999999999999", "to"),
        (f"?with_reassignment=true&to={std}", "to"),
        (f"?with_reassignment=true&to={world.light.user_id}", "to"),
        (f"?with_reassignment=true&to={other_world.admin.user_id}", "to"),
        ("?with_reassignment=perhaps&to=1", "with_reassignment"),
    ]
    for query, field in cases:  # malformed query values are a 400, rule breaks a 422
        response = world.call("DELETE", f"/users/{std}{query}")
        assert response.status_code in (400, 422), (query, response.text)
        assert field in response.json()["errors"], (query, response.text)
    assert world.call("GET", f"/users/{std}").json()["data"]["status"] == "active"
    assert owners(world, work["run"]) == before
    assert world.call("GET", "/runs", world.standard).status_code == 200


def test_to_is_ignored_without_reassignment(world: World) -> None:
    response = world.call("DELETE", f"/users/{world.standard.user_id}?to={world.light.user_id}")
    assert response.status_code == 200, response.text
    false = world.call("DELETE", f"/users/{world.light.user_id}?with_reassignment=false&to=1")
    assert false.status_code == 200, false.text


def test_only_admins_remove_and_nobody_removes_themselves(world: World) -> None:
    for member in (world.standard, world.light):
        refused = world.call("DELETE", f"/users/{world.light.user_id}", member)
        assert refused.status_code == 403

    assert_invalid(world.call("DELETE", f"/users/{world.admin.user_id}"), "user")
    missing = world.call("DELETE", "/users/2147483000")
    assert missing.status_code == 404
    assert missing.json()["code"] == "RESOURCE_NOT_FOUND"
    statuses = {u["id"]: u["status"] for u in world.call("GET", "/users").json()["data"]}
    assert set(statuses.values()) == {"active"}


def test_an_admin_removed_by_another_admin_keeps_one_admin(world: World) -> None:
    promoted = world.call("PUT", f"/users/{world.standard.user_id}/role", json={"role": "admin"})
    assert promoted.status_code == 200
    second_admin = Member(world.standard.user_id, world.standard.token)
    response = world.call("DELETE", f"/users/{world.admin.user_id}", second_admin)
    assert response.status_code == 200, response.text
    # the one active admin left cannot remove themselves
    assert_invalid(world.call("DELETE", f"/users/{second_admin.user_id}", second_admin), "user")


def test_removing_twice_answers_the_same_member(world: World) -> None:
    first = world.call("DELETE", f"/users/{world.light.user_id}")
    again = world.call("DELETE", f"/users/{world.light.user_id}")
    assert again.status_code == 200
    assert again.json()["data"]["disabled_at"] == first.json()["data"]["disabled_at"]


def test_removal_leaves_the_persons_other_organizations_alone(
    world: World, other_world: World
) -> None:
    """The token stays valid elsewhere: Tallyfy keeps the person's global account."""
    invited = other_world.call(
        "POST", "/users/invite", json={"email": email_of(world, world.standard.user_id)}
    )
    assert invited.status_code == 200, invited.text
    assert world.call("DELETE", f"/users/{world.standard.user_id}").status_code == 200
    elsewhere = other_world.client.get(
        f"/organizations/{other_world.org_id}/runs", headers=world.standard.headers
    )
    assert elsewhere.status_code == 200


def email_of(world: World, user_id: int) -> str:
    email: str = world.call("GET", f"/users/{user_id}").json()["data"]["email"]
    return email
