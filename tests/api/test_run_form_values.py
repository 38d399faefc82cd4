"""Kick-off values (`prerun`) and form-field values (`taskdata`) through the run PUT."""

from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import update

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Task
from tests.factories import World

OPTIONS = [{"id": 1, "text": "Red"}, {"id": 2, "text": "Blue"}]
COLUMNS = [{"id": 1, "label": "Item"}, {"id": 2, "label": "Qty"}]

# field type -> (extra definition, valid values with what is stored, invalid values)
CASES: dict[str, tuple[dict[str, Any], list[tuple[Any, Any]], list[Any]]] = {
    "text": ({}, [("hello", "hello"), ("", "")], [5, "x" * 201, ["a"]]),
    "textarea": ({}, [("long\ntext", "long\ntext")], [True, "x" * 30_001]),
    "email": ({}, [("a@example.com", "a@example.com")], ["not-an-email", 42]),
    "url": (
        {},
        [("https://example.com/x", "https://example.com/x")],
        ["ftp://example.com", "example", 1],
    ),
    "number": ({}, [("12.5", "12.5"), (7, 7)], ["twelve", True]),
    "date": (
        {},
        [
            ("2025-12-31T23:59:59Z", "2025-12-31T23:59:59.000Z"),
            ("2025-12-31 10:00:00", "2025-12-31T10:00:00.000Z"),
        ],
        ["31/12/2025", 20251231, "2025-13-01"],
    ),
    "time": ({}, [("09:30", "09:30")], ["9.30", "25:00", 930]),
    "checkbox": ({}, [(True, True), (False, False)], ["yes", 1]),
    "radio": ({"options": OPTIONS}, [("Red", "Red")], ["Green", {"id": 1}, 1]),
    "dropdown": (
        {"options": OPTIONS},
        [({"id": 2, "text": "Blue", "value": None}, {"id": 2, "text": "Blue", "value": None})],
        [{"id": 3, "text": "Green"}, {"id": 1, "text": "Blue"}, "Red"],
    ),
    "multiselect": (
        {"options": OPTIONS},
        [
            (
                [{"id": 1, "text": "Red", "selected": True}],
                [{"id": 1, "text": "Red", "selected": True}],
            )
        ],
        [[{"id": 9, "text": "Nope"}], "Red", [{"id": 1, "selected": "yes"}]],
    ),
    "checklist": (
        {"options": OPTIONS},
        [([{"id": 2, "text": "Blue"}], [{"id": 2, "text": "Blue", "selected": True}])],
        [[{"id": 1}, {"id": 1}], {"id": 1}],
    ),
    "table": (
        {"columns": COLUMNS},
        [(["Widget", "3"], ["Widget", "3"])],
        [["only one"], "Widget,3", [["nested"], "x"]],
    ),
    "assignees_form": (
        {},
        [
            (
                {"users": [], "guests": ["g@example.com"], "groups": []},
                {"users": [], "guests": ["g@example.com"], "groups": []},
            )
        ],
        [{"users": ["1"]}, {"guests": ["bad"]}, [1]],
    ),
    # `file` and `image` values name uploaded files: tests/files/test_form_values.py.
}


def template_with(world: World, field_type: str, required: bool = False) -> tuple[str, str]:
    field_id = uuid4().hex
    extra = CASES[field_type][0]
    template = world.template(
        kickoff=[
            {
                "id": field_id,
                "field_type": field_type,
                "label": f"{field_type} field",
                "required": required,
                **extra,
            }
        ]
    )
    return template, field_id


@pytest.mark.parametrize("field_type", sorted(CASES))
def test_prerun_valid_values(world: World, field_type: str) -> None:
    template, field_id = template_with(world, field_type)
    run = world.launch(template)
    for sent, stored in CASES[field_type][1]:
        response = world.call("PUT", f"/runs/{run['id']}", json={"prerun": {field_id: sent}})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["prerun"][field_id] == stored


@pytest.mark.parametrize("field_type", sorted(CASES))
def test_prerun_invalid_values_name_the_field_and_change_nothing(
    world: World, field_type: str
) -> None:
    template, field_id = template_with(world, field_type)
    run = world.launch(template)
    for bad in CASES[field_type][2]:
        response = world.call(
            "PUT", f"/runs/{run['id']}", json={"name": "not written", "prerun": {field_id: bad}}
        )
        assert response.status_code == 422, (bad, response.text)
        assert list(response.json()["errors"]) == [f"prerun.{field_id}"]
    after = world.call("GET", f"/runs/{run['id']}").json()["data"]
    assert after["prerun"][field_id] is None
    assert after["name"] == run["name"]


@pytest.mark.parametrize("field_type", sorted(CASES))
def test_prerun_null_clears(world: World, field_type: str) -> None:
    template, field_id = template_with(world, field_type)
    sent, stored = CASES[field_type][1][0]
    run = world.launch(template, prerun={field_id: sent})
    assert run["prerun"][field_id] == stored
    response = world.call("PUT", f"/runs/{run['id']}", json={"prerun": {field_id: None}})
    assert response.json()["data"]["prerun"][field_id] is None


def test_prerun_unknown_keys_are_ignored_unless_strict(world: World) -> None:
    template, field_id = template_with(world, "text")
    run = world.launch(template)
    body = {"prerun": {field_id: "ok", "f" * 32: "dropped"}}
    response = world.call("PUT", f"/runs/{run['id']}", json=body)
    assert response.status_code == 200
    assert response.json()["data"]["prerun"] == {field_id: "ok"}
    strict = world.call(
        "PUT", f"/runs/{run['id']}", json=body, headers={"Prefer": "handling=strict"}
    )
    assert strict.status_code == 422
    assert list(strict.json()["errors"]) == [f"prerun.{'f' * 32}"]


def test_prerun_must_be_an_object(world: World) -> None:
    template, field_id = template_with(world, "text")
    run = world.launch(template)
    assert world.call("PUT", f"/runs/{run['id']}", json={"prerun": []}).status_code == 200
    response = world.call("PUT", f"/runs/{run['id']}", json={"prerun": [{field_id: "x"}]})
    assert response.status_code == 422
    assert "prerun" in response.json()["errors"]
    assert world.call("PUT", f"/runs/{run['id']}", json={"prerun": "x"}).status_code == 422


def test_required_kickoff_field_enforced_on_launch(world: World) -> None:
    template, field_id = template_with(world, "text", required=True)
    response = world.call("POST", "/runs", json={"checklist_id": template})
    assert response.status_code == 422
    assert response.json()["errors"] == {f"prerun.{field_id}": ["text field is required"]}
    assert (
        world.call(
            "POST", "/runs", json={"checklist_id": template, "prerun": {field_id: "here"}}
        ).status_code
        == 201
    )


def _capture_run(world: World, field_type: str) -> tuple[dict[str, Any], str]:
    capture_id = uuid4().hex
    extra = CASES[field_type][0]
    template = world.template(
        steps=[
            {
                "title": "Fill in",
                "captures": [
                    {"id": capture_id, "field_type": field_type, "label": "Answer", **extra}
                ],
            }
        ]
    )
    return world.launch(template), capture_id


@pytest.mark.parametrize("field_type", sorted(CASES))
def test_taskdata_values(world: World, field_type: str) -> None:
    run, capture_id = _capture_run(world, field_type)
    sent, stored = CASES[field_type][1][0]
    response = world.call(
        "PUT", f"/runs/{run['id']}?with=form_fields", json={"taskdata": {capture_id: sent}}
    )
    assert response.status_code == 200, response.text
    (field,) = response.json()["data"]["form_fields"]["data"]
    assert field["id"] == capture_id
    assert field["value"] == stored
    for bad in CASES[field_type][2]:
        response = world.call("PUT", f"/runs/{run['id']}", json={"taskdata": {capture_id: bad}})
        assert response.status_code == 422, (bad, response.text)
        assert list(response.json()["errors"]) == [f"taskdata.{capture_id}"]


def test_taskdata_on_a_completed_task_is_refused(world: World) -> None:
    run, capture_id = _capture_run(world, "text")
    with UnitOfWork(world.factory, write=True) as uow:
        uow.session.execute(update(Task).where(Task.run_id == run["id"]).values(status="completed"))
    response = world.call("PUT", f"/runs/{run['id']}", json={"taskdata": {capture_id: "late"}})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [f"taskdata.{capture_id}"]


def test_kickoff_keys_are_not_taskdata_keys(world: World) -> None:
    template, field_id = template_with(world, "text")
    run = world.launch(template)
    response = world.call(
        "PUT",
        f"/runs/{run['id']}",
        json={"taskdata": {field_id: "x"}},
        headers={"Prefer": "handling=strict"},
    )
    assert response.status_code == 422


def test_taskdata_on_a_run_without_fields(world: World) -> None:
    run = world.launch(world.template())
    response = world.call(
        "PUT", f"/runs/{run['id']}", json={"taskdata": {"x": 1}, "prerun": {"y": 2}}
    )
    assert response.status_code == 200
