"""Tallyfy's CLI `blueprint export` then `blueprint import`, replayed request for request.

The CLI exports with `GET /checklists/{id}?with=steps,automated_actions`, keeps the
response's `data`, deletes a fixed list of server-managed keys, and posts everything else
to `POST /checklists`. The copy must have every step, in order, with its captures,
deadlines (re-pointed at the copy's own steps) and assignees, and the kick-off form.
"""

import copy
from typing import Any

import pytest
from sqlalchemy import func, select

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Checklist, FormField, Step
from tests.factories import World

# The CLI's blueprintImportStripFields, in its order.
CLI_STRIPPED = (
    "id",
    "owner_id",
    "created_by",
    "alias",
    "steps_count",
    "industry_tags",
    "topic_tags",
    "folder_id",
    "kickoff_title",
    "kickoff_description",
    "started_processes",
    "created_at",
    "last_updated",
    "archived_at",
)
STEP_KEYS = (
    "title",
    "summary",
    "step_type",
    "position",
    "assignees",
    "guests",
    "groups",
    "max_assignable",
    "assign_run_starter",
    "webhook",
    "everyone_must_complete",
    "top_secret",
)
FIELD_KEYS = ("field_type", "label", "guidance", "required", "options", "position", "alias")


def cli_export(world: World, checklist_id: str) -> dict[str, Any]:
    response = world.call(
        "GET",
        f"/checklists/{checklist_id}",
        params={"with": "steps,automated_actions"},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def cli_import(world: World, exported: dict[str, Any], expect: int = 201) -> dict[str, Any]:
    payload = {key: value for key, value in exported.items() if key not in CLI_STRIPPED}
    response = world.call("POST", "/checklists", json=payload)
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def build_template(world: World) -> str:
    created = world.call(
        "POST",
        "/checklists",
        json={
            "title": "Vendor onboarding",
            "summary": "Bring a vendor on board",
            "prerun": [
                {"field_type": "text", "label": "Vendor name", "required": True},
                {"field_type": "dropdown", "label": "Tier", "options": ["Gold", "Silver"]},
            ],
        },
    )
    assert created.status_code == 201, created.text
    checklist_id: str = created.json()["data"]["id"]
    first = world.call(
        "POST",
        f"/checklists/{checklist_id}/steps",
        json={
            "title": "Collect documents",
            "assignees": [world.standard.user_id],
            "deadline": {"value": 2, "unit": "days"},
        },
    ).json()["data"]
    world.call(
        "POST",
        f"/checklists/{checklist_id}/steps",
        json={
            "title": "Approve vendor",
            "step_type": "approval",
            "summary": "Check the papers",
            "everyone_must_complete": True,
            "deadline": {"value": 3, "unit": "days", "option": "from", "step": first["id"]},
        },
    )
    world.call(
        "POST",
        f"/checklists/{checklist_id}/steps/{first['id']}/captures",
        json={"field_type": "textarea", "label": "Notes", "guidance": "Anything odd?"},
    )
    world.call(
        "POST",
        f"/checklists/{checklist_id}/steps/{first['id']}/captures",
        json={"field_type": "radio", "label": "Risk", "options": ["Low", "High"], "required": True},
    )
    return checklist_id


def comparable_steps(template: dict[str, Any]) -> list[dict[str, Any]]:
    steps = template["steps"]["data"]
    by_id = {step["id"]: step["title"] for step in steps}
    result = []
    for step in steps:
        item = {key: step[key] for key in STEP_KEYS}
        deadline = step["deadline"]
        if deadline and deadline.get("step") in by_id:
            deadline = {**deadline, "step": by_id[deadline["step"]]}
        item["deadline"] = deadline
        item["captures"] = [{k: c[k] for k in FIELD_KEYS} for c in step["captures"]]
        result.append(item)
    return result


def test_an_exported_blueprint_imports_with_every_step(world: World) -> None:
    original_id = build_template(world)
    exported = cli_export(world, original_id)
    imported = cli_import(world, copy.deepcopy(exported))["data"]
    assert imported["id"] != original_id
    assert imported["steps_count"] == 2
    again = cli_export(world, imported["id"])
    assert comparable_steps(again) == comparable_steps(exported)
    new_step_ids = {step["id"] for step in again["steps"]["data"]}
    old_step_ids = {step["id"] for step in exported["steps"]["data"]}
    assert not new_step_ids & old_step_ids
    approve = again["steps"]["data"][1]
    assert approve["deadline"]["step"] in new_step_ids
    assert [f["label"] for f in again["prerun"]] == ["Vendor name", "Tier"]
    assert [o["text"] for o in again["prerun"][1]["options"]] == ["Gold", "Silver"]
    for key in ("title", "summary", "type", "guidance", "is_public", "users", "groups"):
        assert again[key] == exported[key], key


def test_the_import_launches_like_the_original(world: World) -> None:
    exported = cli_export(world, build_template(world))
    imported = cli_import(world, exported)["data"]
    run = world.launch(
        imported["id"],
        name="Acme",
        prerun={imported["prerun"][0]["id"]: "Acme"},
    )
    tasks = world.call("GET", f"/runs/{run['id']}/tasks").json()["data"]
    assert [t["title"] for t in tasks] == ["Collect documents", "Approve vendor"]


def test_steps_sent_as_a_bare_list_are_created_in_position_order(world: World) -> None:
    body = {
        "title": "Bare list",
        "steps": [
            {"title": "Second", "position": 2},
            {"title": "First", "position": 1, "captures": [{"field_type": "text", "label": "A"}]},
        ],
    }
    created = world.call("POST", "/checklists", json=body, params={"with": "steps"})
    assert created.status_code == 201, created.text
    steps = created.json()["data"]["steps"]["data"]
    assert [(s["title"], s["position"]) for s in steps] == [("First", 1), ("Second", 2)]
    assert [c["label"] for c in steps[0]["captures"]] == ["A"]


def count_rows(world: World) -> tuple[int, int, int]:
    with UnitOfWork(world.factory, write=False) as uow:
        return (
            uow.session.scalar(
                select(func.count()).select_from(Checklist).where(Checklist.org_id == world.org_id)
            )
            or 0,
            uow.session.scalar(
                select(func.count())
                .select_from(Step)
                .join(Checklist, Checklist.id == Step.checklist_id)
                .where(Checklist.org_id == world.org_id)
            )
            or 0,
            uow.session.scalar(
                select(func.count())
                .select_from(FormField)
                .join(Checklist, Checklist.id == FormField.checklist_id)
                .where(Checklist.org_id == world.org_id)
            )
            or 0,
        )


@pytest.mark.parametrize(
    ("bad_step", "error_key"),
    [
        ({"title": "Late", "assignees": [2147483000]}, "steps.1.assignees"),
        (
            {"title": "Late", "deadline": {"value": 1, "step": "no-such-step"}},
            "steps.1.deadline.step",
        ),
        (
            {"title": "Late", "captures": [{"field_type": "nonsense", "label": "X"}]},
            "steps.1.captures.0.field_type",
        ),
        ({"title": "Late", "webhook": "ftp://example.com"}, "steps.1.webhook"),
        ({"title": "Late", "id": "same-id"}, "steps.1.id"),
    ],
)
def test_one_bad_step_refuses_the_whole_template(
    world: World, bad_step: dict[str, Any], error_key: str
) -> None:
    before = count_rows(world)
    body = {
        "title": "Half good",
        "prerun": [{"field_type": "text", "label": "Name"}],
        "steps": [
            {
                "id": "same-id",
                "title": "Good",
                "captures": [{"field_type": "text", "label": "Fine"}],
            },
            bad_step,
        ],
    }
    response = world.call("POST", "/checklists", json=body)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(key.startswith(error_key) for key in errors), errors
    assert count_rows(world) == before


def test_a_light_member_cannot_import(world: World) -> None:
    before = count_rows(world)
    response = world.call(
        "POST", "/checklists", world.light, json={"title": "Nope", "steps": [{"title": "S"}]}
    )
    assert response.status_code == 403
    assert count_rows(world) == before


def named_rules(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The template's rules with every id they name replaced by that thing's title or
    label, so that a template and its copy compare."""
    names = {f["id"]: f["label"] for f in template["prerun"]}
    for step in template["steps"]["data"]:
        names[step["id"]] = step["title"]
        names |= {c["id"]: c["label"] for c in step["captures"]}
    return [
        {
            "alias": rule["automated_alias"],
            "if": [
                (
                    c["conditionable_type"],
                    names[c["conditionable_id"]],
                    c["operation"],
                    c["statement"],
                )
                for c in rule["conditions"]
            ],
            "then": [
                (a["action_type"], a["action_verb"], names[a["target_step_id"]], a.get("assignees"))
                for a in rule["then_actions"]
            ],
        }
        for rule in template["automated_actions"]
    ]


def test_rules_travel_with_an_export_and_a_copy_and_name_the_new_ids(world: World) -> None:
    original_id = build_template(world)
    exported = cli_export(world, original_id)
    tier = exported["prerun"][1]["id"]
    collect, approve = (s["id"] for s in exported["steps"]["data"])
    risk = exported["steps"]["data"][0]["captures"][1]["id"]
    rule = {
        "automated_alias": "Gold vendors skip approval",
        "conditions": [
            {"conditionable_type": "Prerun", "conditionable_id": tier,
             "operation": "equals", "statement": "Gold"},
            {"conditionable_type": "Capture", "conditionable_id": risk,
             "operation": "not_equals", "statement": "High", "logic": "and"},
            {"conditionable_type": "Step", "conditionable_id": collect,
             "operation": "completed", "logic": "and"},
        ],
        "then_actions": [
            {"action_type": "visibility", "action_verb": "hide", "target_step_id": approve},
            {"action_type": "assignment", "action_verb": "assign", "target_step_id": approve,
             "assignees": {"users": [world.standard.user_id]}},
        ],
    }  # fmt: skip
    path = f"/checklists/{original_id}/automated-actions"
    assert world.call("POST", path, json=rule).status_code == 201
    exported = cli_export(world, original_id)
    expected = named_rules(exported)
    assert len(expected) == 1

    imported = cli_export(world, cli_import(world, copy.deepcopy(exported))["data"]["id"])
    assert named_rules(imported) == expected
    copied_id = world.call("POST", f"/checklists/{original_id}/clone", json={}).json()["data"]["id"]
    copied = cli_export(world, copied_id)
    assert named_rules(copied) == expected
    for other in (imported, copied):
        mine = other["automated_actions"][0]
        assert mine["id"] != exported["automated_actions"][0]["id"]
        assert (
            mine["conditions"][0]["id"] != exported["automated_actions"][0]["conditions"][0]["id"]
        )

    before = count_rows(world)
    stray = copy.deepcopy(exported)
    stray["automated_actions"][0]["then_actions"][0]["target_step_id"] = "no-such-step"
    stray["automated_actions"][0]["conditions"][1]["conditionable_id"] = tier
    refused = cli_import(world, stray, expect=422)
    assert set(refused["errors"]) == {
        "automated_actions.0.then_actions.0.target_step_id",
        "automated_actions.0.conditions.1.conditionable_id",
    }
    assert count_rows(world) == before
