"""Tallyfy's Python SDK parses procflow's organization, task and member bodies into its
models with nothing of its own left at a default: every key its model reads is sent."""

import dataclasses
from typing import Any

from tallyfy.models import Organization, Task

from tests.factories import World

HOOK = "https://hooks.example.com/sdk"


def test_organization_fills_every_field_of_the_model(sdk: Any, world: World) -> None:
    org = sdk.get_organization(world.org_id)
    assert (org.id, org.users_count, org.user_role, org.timezone) == (
        world.org_id,
        3,
        "admin",
        "UTC",
    )
    assert org.created_on
    assert (org.in_trial, org.saml_enabled, org.auto_complete_tasks) == (False, False, False)
    assert set(org.extra) == {"created_at"}  # procflow's own, beside `created_on`
    body = sdk._make_request("GET", f"organizations/{world.org_id}")["data"]
    model_keys = {f.name for f in dataclasses.fields(Organization)} - {"extra"}
    assert model_keys <= set(body)
    listed = sdk.get_current_user_organizations()
    assert [o.id for o in listed.data] == [world.org_id]
    assert listed.data[0].users_count == 3


def test_task_keys_of_the_model_come_from_the_step(sdk: Any, world: World) -> None:
    template = world.template(
        steps=[
            {
                "title": "Secret review",
                "flags": {"top_secret": True, "everyone_must_complete": True},
                "webhook": HOOK,
            }
        ]
    )
    run = world.launch(template)
    task_id = world.call("GET", f"/runs/{run['id']}/tasks").json()["data"][0]["id"]
    task = sdk.get_task(world.org_id, run["id"], task_id)
    assert (task.top_secret, task.everyone_must_complete, task.webhook) == (True, True, HOOK)
    assert task.can_complete_only_assignees is False
    assert task.owners.users == [world.admin.user_id]
    model_keys = {f.name for f in dataclasses.fields(Task)} - {"extra"}
    body = world.call("GET", f"/tasks/{task_id}").json()["data"]
    unsent = model_keys - set(body) - {"step", "run", "summary"}  # includes, and `with=summary`
    assert unsent == {"completion_progress", "has_deadline_dependent_child_tasks"}


def test_user_tasks_with_the_sdks_default_includes(sdk: Any, world: World) -> None:
    """`get_user_tasks` asks for `run,threads_count,step,tags,folders,member_watchers.watcher`."""
    run = world.launch(world.template())
    task_id = world.call("GET", f"/runs/{run['id']}/tasks").json()["data"][0]["id"]
    world.call("POST", f"/tasks/{task_id}/comment", json={"content": "Noted"})
    tasks = sdk.get_user_tasks(world.org_id, world.admin.user_id).data
    assert [t.id for t in tasks] == [task_id]
    assert tasks[0].run.id == run["id"]
    assert tasks[0].extra["threads_count"] == 1
    assert tasks[0].extra["tags"] == {"data": []}
    assert tasks[0].extra["member_watchers"] == {"data": []}


def test_invitation_is_parsed_as_a_user(sdk: Any, world: World) -> None:
    user = sdk.invite_user_to_organization(world.org_id, "sdk-invite@example.com", "Ada", "L")
    assert (user.email, user.first_name) == ("sdk-invite@example.com", "Ada")
