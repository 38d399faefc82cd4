"""Automation rules over HTTP: the CRUD contract at Tallyfy's paths, and a rule acting on
runs at launch and when a kick-off value changes, in the change's own transaction."""

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import select

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Event
from tests.factories import World

RULES = "/checklists/{}/automated-actions"


def review_template(world: World) -> tuple[str, str, list[str]]:
    """Kick-off field X and three steps; the third is the one a rule shows."""
    field = uuid4().hex
    checklist_id = world.template(
        kickoff=[{"id": field, "field_type": "text", "label": "Needs review"}],
        steps=[
            {"title": "Prepare", "deadline": {"value": 1, "unit": "days"}},
            {"title": "Write"},
            {"title": "Review", "deadline": {"value": 2, "unit": "days"}},
        ],
    )
    got = world.call("GET", f"/checklists/{checklist_id}?with=steps").json()["data"]
    return checklist_id, field, [s["id"] for s in got["steps"]["data"]]


def show_and_assign(field: str, step: str, user_id: int) -> dict[str, Any]:
    return {
        "automated_alias": "Review when asked",
        "conditions": [
            {
                "conditionable_type": "Prerun",
                "conditionable_id": field,
                "operation": "equals",
                "statement": "yes",
                "logic": "and",
                "position": 1,
            }
        ],
        "then_actions": [
            {"action_type": "visibility", "action_verb": "show", "target_step_id": step},
            {
                "action_type": "assignment",
                "action_verb": "assign",
                "target_step_id": step,
                "assignees": {"users": [user_id], "guests": [], "groups": []},
            },
            {
                "action_type": "deadline",
                "action_verb": "set",
                "target_step_id": step,
                "deadline": {"value": 5, "unit": "days"},
            },
            {"action_type": "webhook", "action_verb": "fire", "webhook": "https://example.com/h"},
        ],
    }


def tasks_of(world: World, run_id: str) -> dict[str, dict[str, Any]]:
    response = world.call("GET", f"/runs/{run_id}/tasks")
    assert response.status_code == 200, response.text
    return {t["step_id"]: t for t in response.json()["data"]}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_kickoff_rule_shows_assigns_and_sets_a_deadline_and_follows_the_value(
    world: World,
) -> None:
    checklist_id, field, (prepare, write, review) = review_template(world)
    made = world.call(
        "POST",
        RULES.format(checklist_id),
        json=show_and_assign(field, review, world.standard.user_id),
    )
    assert made.status_code == 201, made.text
    rule = made.json()["data"]

    yes = world.launch(checklist_id, prerun={field: "yes"})
    tasks = tasks_of(world, yes["id"])
    assert set(tasks) == {prepare, write, review}
    assert world.standard.user_id in tasks[review]["owners"]["users"]
    started = ts(yes["started_at"])
    assert ts(tasks[review]["deadline"]) - started == timedelta(days=5)
    assert ts(tasks[prepare]["deadline"]) - started == timedelta(days=1)

    no = world.launch(checklist_id, prerun={field: "no"})
    assert set(tasks_of(world, no["id"])) == {prepare, write}

    changed = world.call("PUT", f"/runs/{no['id']}", json={"prerun": {field: "Yes"}})
    assert changed.status_code == 200, changed.text
    shown = tasks_of(world, no["id"])
    assert set(shown) == {prepare, write, review}
    assert world.standard.user_id in shown[review]["owners"]["users"]

    world.call("PUT", f"/runs/{no['id']}", json={"prerun": {field: "no"}})
    assert set(tasks_of(world, no["id"])) == {prepare, write}
    for step in (prepare, write):
        done = world.call(
            "POST",
            f"/runs/{no['id']}/completed-tasks",
            json={"task_id": tasks_of(world, no["id"])[step]["id"]},
        )
        assert done.status_code in (200, 201), done.text
    run = world.call("GET", f"/runs/{no['id']}").json()["data"]
    assert run["status"] == "complete", "a hidden step does not hold up completion"

    feed = world.call("GET", f"/activity-feeds?run_id={no['id']}&per_page=100")
    described = [str(item.get("description")) for item in feed.json()["data"]]
    assert any(rule["id"] in text for text in described), described
    with UnitOfWork(world.factory, write=False) as uow:
        fired = uow.session.scalars(
            select(Event).where(
                Event.run_id.in_([yes["id"], no["id"]]), Event.type == "automation.fired"
            )
        ).all()
    assert len(fired) == 2
    assert all(e.payload["url"] == "https://example.com/h" for e in fired)


def test_rules_are_created_replaced_and_deleted_and_echoed_on_the_template(world: World) -> None:
    checklist_id, field, steps = review_template(world)
    other_id, other_field, other_steps = review_template(world)
    body = show_and_assign(field, steps[2], world.standard.user_id)
    path = RULES.format(checklist_id)

    assert world.call("POST", path, world.light, json=body).status_code == 403
    stranger = show_and_assign(other_field, other_steps[0], 999_999)
    refused = world.call("POST", path, json=stranger)
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) >= {
        "conditions.0.conditionable_id",
        "then_actions.0.target_step_id",
        "then_actions.2.target_step_id",
    }
    hostile: list[dict[str, Any]] = [
        {"conditions": []},
        {"conditions": ["x"], "then_actions": [1]},
        {"conditions": [{"conditionable_type": ["Step"]}], "then_actions": [{"action_type": {}}]},
        {**body, "then_actions": [{"action_type": "deadline", "action_verb": "shift",
                                   "target_step_id": [1], "deadline": {"value": 10**30}}]},
        {**body, "then_actions": [{"action_type": "webhook", "action_verb": "fire",
                                   "webhook": "http://127.0.0.1/x"}]},
    ]  # fmt: skip
    for junk in hostile:
        assert world.call("POST", path, json=junk).status_code == 422, junk

    rule = world.call("POST", path, json=body).json()["data"]
    assert rule["conditions"][0]["id"]
    assert rule["then_actions"][0]["id"]
    template = world.call("GET", f"/checklists/{checklist_id}").json()["data"]
    assert [r["id"] for r in template["automated_actions"]] == [rule["id"]]

    replaced = world.call(
        "PUT", f"{path}/{rule['id']}", json={**rule, "automated_alias": "Renamed"}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["data"]["automated_alias"] == "Renamed"
    assert world.call("PUT", f"{RULES.format(other_id)}/{rule['id']}", json=rule).status_code == 404

    assert world.call("DELETE", f"{path}/{rule['id']}").status_code == 204
    assert (
        world.call("GET", f"/checklists/{checklist_id}").json()["data"]["automated_actions"] == []
    )
    assert world.call("DELETE", f"{path}/{rule['id']}").status_code == 404

    world.call("POST", path, json=body)
    assert world.call("DELETE", f"/checklists/{checklist_id}").status_code == 200
    gone = world.call("DELETE", f"/checklists/{checklist_id}/delete")
    assert gone.status_code == 200, "a template's rules go with it"


def test_write_answers_show_the_process_as_the_rules_left_it(world: World) -> None:
    checklist_id, field, (prepare, write, review) = review_template(world)
    world.call(
        "POST", RULES.format(checklist_id), json=show_and_assign(field, review, world.admin.user_id)
    )
    skip = {
        "automated_alias": "No writing once prepared",
        "conditions": [
            {"conditionable_type": "Step", "conditionable_id": prepare, "operation": "completed"}
        ],
        "then_actions": [
            {"action_type": "visibility", "action_verb": "hide", "target_step_id": write}
        ],
    }
    assert world.call("POST", RULES.format(checklist_id), json=skip).status_code == 201
    run_id = world.launch(checklist_id, prerun={field: "no"})["id"]
    before = world.call("GET", f"/runs/{run_id}").headers["etag"]

    put = world.call(
        "PUT", f"/runs/{run_id}", params={"with": "tasks"}, json={"prerun": {field: "yes"}}
    )
    assert put.status_code == 200, put.text
    answered = {t["step_id"]: t for t in put.json()["data"]["tasks"]["data"]}
    assert set(answered) == {prepare, write, review}
    assert world.admin.user_id in answered[review]["owners"]["users"]
    again = world.call("GET", f"/runs/{run_id}", params={"with": "tasks"})
    assert put.headers["etag"] == again.headers["etag"] != before
    assert put.json()["data"]["progress"] == again.json()["data"]["progress"]

    done = world.call(
        "POST", f"/runs/{run_id}/completed-tasks", json={"task_id": answered[prepare]["id"]}
    )
    assert done.status_code == 200, done.text
    changed = done.json()["data"]["tasks_changed_by_rules"]
    assert list(changed) == [answered[write]["id"]]
    assert changed[answered[write]["id"]]["step_id"] == write
    reopened = world.call("DELETE", f"/runs/{run_id}/completed-tasks/{answered[prepare]['id']}")
    assert list(reopened.json()["data"]["tasks_changed_by_rules"]) == [answered[write]["id"]]
