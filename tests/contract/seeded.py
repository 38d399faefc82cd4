"""A small organization with one object of every kind, so generated requests can name real ids.

Without real ids nearly every generated request would stop at a 404; with them the checks
reach validation, the database and the response shapes.
"""

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient

from procflow.storage.database import SessionFactory
from tests.factories import World

GUEST_EMAIL = "guest@example.com"


@dataclass(frozen=True)
class Seeded:
    """Real values for the path parameters of every operation, and the admin's headers."""

    path_values: dict[str, Any]
    headers: dict[str, str]


def _data(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()["data"]


def seed(factory: SessionFactory, client: TestClient) -> Seeded:
    world = World.create(factory, client)
    kickoff_id, capture_id = uuid4().hex, uuid4().hex
    checklist_id = world.template(
        kickoff=[{"id": kickoff_id, "label": "Customer", "field_type": "text", "required": False}],
        steps=[
            {
                "title": "Collect",
                "captures": [{"id": capture_id, "label": "Notes", "field_type": "text"}],
            },
            {"title": "Review"},
        ],
    )
    tag_id = world.tag()
    folder_id = world.folder()
    run = world.launch(checklist_id)
    tasks = _data(world.call("GET", f"/runs/{run['id']}/tasks"))
    task_id = tasks[0]["id"]
    steps = _data(world.call("GET", f"/checklists/{checklist_id}/steps"))
    step_id = steps[0]["id"]
    group = _data(world.call("POST", "/groups", json={"name": "Reviewers"}))
    _data(world.call("POST", "/guests", json={"email": GUEST_EMAIL}))
    comment = _data(world.call("POST", f"/tasks/{task_id}/comment", json={"content": "Hello"}))
    association = _data(
        world.call(
            "POST",
            "/checklists/tags",
            json={
                "subject_id": run["id"],
                "subject_type": "Run",
                "tag_id": tag_id,
                "tag_type": "private",
            },
        )
    )
    relation = _data(
        world.call(
            "POST",
            "/folders/add-object",
            json={"folder_id": folder_id, "subject_id": run["id"], "subject_type": "Run"},
        )
    )
    asset = _data(
        world.call(
            "POST",
            "/assets",
            data={"uploaded_from": capture_id, "subject_type": "Run", "subject_id": run["id"]},
            files={"name": ("notes.txt", b"Notes\n", "text/plain")},
        )
    )
    automation = _data(
        world.call(
            "POST",
            f"/checklists/{checklist_id}/automated-actions",
            json={
                "conditions": [
                    {"conditionable_type": "Step", "conditionable_id": step_id,
                     "operation": "completed"}
                ],
                "then_actions": [
                    {"action_type": "deadline", "action_verb": "shift", "target_step_id": step_id,
                     "deadline": {"value": 0, "unit": "days"}}
                ],
            },
        )
    )  # fmt: skip
    return Seeded(
        path_values={
            "org_id": world.org_id,
            "run_id": run["id"],
            "task_id": task_id,
            "checklist_id": checklist_id,
            "step_id": step_id,
            "capture_id": capture_id,
            "tag_id": tag_id,
            "folder_id": folder_id,
            "group_id": group["id"],
            "comment_id": comment["id"],
            "association_id": str(association["id"]),
            "relation_id": str(relation["id"]),
            "user_id": world.standard.user_id,
            "email": GUEST_EMAIL,
            "asset_id": asset["id"],
            "automation_id": automation["id"],
        },
        headers={"Authorization": f"Bearer {world.admin.token}"},
    )
