"""The "task assigned" e-mail on every path that gives someone a task: a member removed
with reassignment hands their open tasks over, an automation assigns, a task's owners are
replaced. Each newcomer is told once per task, through the real local SMTP server, and a
preference turned off is respected; a conversion to guest, which keeps the tasks with the
same person, tells no one."""

from typing import Any
from uuid import uuid4

from procflow.services import mailer
from tests.email.conftest import Inbox, drain
from tests.email.test_email import address, text_of
from tests.factories import World


def tasks_of(world: World, run_id: str) -> dict[str, str]:
    """Task ids by title."""
    tasks = world.call("GET", f"/runs/{run_id}/tasks").json()["data"]
    return {t["title"]: t["id"] for t in tasks}


def held_by_standard(world: World) -> dict[str, str]:
    """Three open tasks of the standard member, one of them shared with the light member."""
    steps: list[dict[str, Any]] = [
        {"title": "Draft", "assignees": [world.standard.user_id]},
        {"title": "Check", "assignees": [world.standard.user_id]},
        {"title": "Shared", "assignees": [world.standard.user_id, world.light.user_id]},
    ]
    return tasks_of(world, world.launch(world.template(steps=steps))["id"])


def remove_standard(world: World, query: str) -> None:
    answer = world.call("DELETE", f"/users/{world.standard.user_id}?{query}")
    assert answer.status_code == 200, answer.text


def test_a_removed_members_tasks_are_mailed_to_whoever_takes_them_over(
    world: World, smtp: tuple[Inbox, str], mail_worker: mailer.Mailer
) -> None:
    inbox, _ = smtp
    light = address(world, world.light)
    held_by_standard(world)
    drain(mail_worker)
    inbox.messages.clear()
    remove_standard(world, f"with_reassignment=true&to={world.light.user_id}")
    drain(mail_worker)
    (handed,) = inbox.to(light)  # one e-mail for the change, listing both tasks
    assert handed["Subject"] == "2 new tasks for you"
    text = text_of(handed)
    assert "- Draft" in text
    assert "- Check" in text
    assert "Shared" not in text  # already theirs: not told again
    assert inbox.to(address(world, world.admin)) == []  # the one who moved them


def test_a_handover_respects_preferences_and_removal_alone_mails_no_one(
    world: World, smtp: tuple[Inbox, str], mail_worker: mailer.Mailer
) -> None:
    inbox, _ = smtp
    off = world.call("PUT", "/me/email-preferences", world.light, json={"task_assigned": False})
    assert off.status_code == 200, off.text
    held_by_standard(world)
    drain(mail_worker)
    remove_standard(world, f"with_reassignment=true&to={world.light.user_id}")
    drain(mail_worker)
    assert inbox.to(address(world, world.light)) == []
    enabled = world.call("PUT", f"/users/{world.standard.user_id}/enable")
    assert enabled.status_code == 200, enabled.text
    tasks = held_by_standard(world)
    drain(mail_worker)
    inbox.messages.clear()
    remove_standard(world, "with_reassignment=false")
    drain(mail_worker)
    assert inbox.messages == []
    assert tasks  # still the standard member's


def test_converting_a_member_to_a_guest_tells_no_one(
    world: World, smtp: tuple[Inbox, str], mail_worker: mailer.Mailer
) -> None:
    inbox, _ = smtp
    held_by_standard(world)
    drain(mail_worker)
    inbox.messages.clear()
    answer = world.call("PUT", f"/users/{world.standard.user_id}/to/guest")
    assert answer.status_code == 200, answer.text
    drain(mail_worker)
    assert inbox.messages == []


def test_owners_replaced_tell_the_newcomers_only(
    world: World, smtp: tuple[Inbox, str], mail_worker: mailer.Mailer
) -> None:
    inbox, _ = smtp
    run_id = world.launch(world.template(steps=[{"title": "Sign", "assignees": []}]))["id"]
    (task,) = tasks_of(world, run_id).values()
    drain(mail_worker)
    inbox.messages.clear()
    path = f"/runs/{run_id}/tasks/{task}"
    for users in ([world.standard.user_id], [world.standard.user_id, world.light.user_id]):
        body = {"owners": {"users": users, "guests": [], "groups": []}}
        assert world.call("PUT", path, json=body).status_code == 200
    drain(mail_worker)
    assert inbox.subjects(address(world, world.standard)) == ["New task: Sign"]
    assert inbox.subjects(address(world, world.light)) == ["New task: Sign"]


def test_an_automation_mails_everyone_it_assigns_once(
    world: World, smtp: tuple[Inbox, str], mail_worker: mailer.Mailer
) -> None:
    inbox, _ = smtp
    field = uuid4().hex
    checklist = world.template(
        kickoff=[{"id": field, "field_type": "text", "label": "Urgent"}],
        steps=[{"title": "Call the client"}, {"title": "Send the quote"}],
    )
    steps = world.call("GET", f"/checklists/{checklist}?with=steps").json()["data"]
    assign = [
        {
            "action_type": "assignment",
            "action_verb": "assign",
            "target_step_id": step["id"],
            "assignees": {"users": [world.light.user_id], "guests": [], "groups": []},
        }
        for step in steps["steps"]["data"]
    ]
    condition = {
        "conditionable_type": "Prerun",
        "conditionable_id": field,
        "operation": "equals",
        "statement": "yes",
        "logic": "and",
        "position": 1,
    }
    rule = {"automated_alias": "Urgent", "conditions": [condition], "then_actions": assign}
    made = world.call("POST", f"/checklists/{checklist}/automated-actions", json=rule)
    assert made.status_code == 201, made.text
    run_id = world.launch(checklist, prerun={field: "no"})["id"]
    drain(mail_worker)
    light = address(world, world.light)
    assert inbox.to(light) == []
    changed = world.call("PUT", f"/runs/{run_id}", json={"prerun": {field: "yes"}})
    assert changed.status_code == 200, changed.text
    drain(mail_worker)
    assert inbox.subjects(light) == ["2 new tasks for you"]
    same = world.call("PUT", f"/runs/{run_id}", json={"prerun": {field: "YES"}})
    assert same.status_code == 200, same.text  # the rule still holds: nobody is new
    drain(mail_worker)
    assert inbox.subjects(light) == ["2 new tasks for you"]
