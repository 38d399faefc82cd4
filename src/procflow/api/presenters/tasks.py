"""A task as Tallyfy's clients read it."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from procflow.domain.runs import DONE
from procflow.domain.timeutil import format_ts
from procflow.services.records import RunField, Step, Task, TaskOwner

STEP_SETTINGS = {
    "everyone_must_complete": False,
    "can_complete_only_assignees": False,
    "top_secret": False,
    "allow_guest_owners": False,
    "is_soft_start_date": False,
    "send_chromeless": False,
    "webhook": None,
}
"""What a task takes over from its step at launch (in `flags`), with the value a one-off
task, or a task launched before procflow kept them, shows."""

STATUS_LABELS = {
    "not-started": "Not started",
    "in-progress": "In progress",
    "completed": "Completed",
    "auto-skipped": "Auto-skipped",
}


def owners_json(owners: Sequence[TaskOwner]) -> dict[str, list[Any]]:
    return {
        "users": [o.user_id for o in owners if o.user_id is not None],
        "guests": [o.guest_email for o in owners if o.guest_email is not None],
        "groups": [o.group_id for o in owners if o.group_id is not None],
    }


def task_json(
    task: Task,
    owners: Sequence[TaskOwner],
    now: datetime,
    *,
    fields: Sequence[RunField] | None = None,
    checklist_id: str | None = None,
) -> dict[str, Any]:
    """The task; `fields` (its form fields) adds `taskdata`, the values keyed by field id."""
    finished = task.status in DONE
    flags = task.flags or {}
    starter = flags.get("starter_id")
    data = {
        "id": task.id,
        "increment_id": task.increment_id,
        "title": task.title,
        "original_title": task.title,
        "run_id": task.run_id,
        "step_id": task.step_id,
        "alias": task.alias,
        "summary": task.summary,
        "task_type": task.task_type,
        "status": task.status,
        "status_label": STATUS_LABELS.get(task.status, task.status),
        "position": task.position,
        "owners": owners_json(owners),
        "deadline": format_ts(task.deadline),
        "started_at": format_ts(task.started_at),
        "completed_at": format_ts(task.completed_at),
        "completer_id": task.completer_id,
        "is_approved": task.is_approved,
        "is_oneoff_task": task.run_id is None,
        "is_completable": not finished,
        "problem": task.has_problem,
        "max_assignable": task.max_assignable,
        "prevent_guest_comment": task.prevent_guest_comment,
        "due_date_passed": bool(task.deadline and not finished and task.deadline < now),
        "created_at": format_ts(task.created_at),
        "last_updated": format_ts(task.last_updated),
        "archived_at": format_ts(task.archived_at),
        "checklist_id": checklist_id,
        "linked_step_id": None,
        "blueprint_position": task.position,
        "starter_id": starter if isinstance(starter, int) else None,
        "completer_guest": flags.get("completer_guest_id"),
        "run_status": None,
        "stage_id": None,
    }
    for key, unset in STEP_SETTINGS.items():
        data[key] = flags.get(key, unset)
    if fields is not None:
        data["taskdata"] = {f.field_id: f.value for f in fields}
    return data


def step_json(step: Step) -> dict[str, Any]:
    return {
        "id": step.id,
        "checklist_id": step.checklist_id,
        "title": step.title,
        "alias": step.alias,
        "summary": step.summary,
        "step_type": step.step_type,
        "position": step.position,
    }
