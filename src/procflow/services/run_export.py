"""A run flattened into rows, as Tallyfy's process CSV export lays it out.

One row per kick-off field, per task and per form field of a task, each repeating the
run's own columns, so a spreadsheet can filter on any of them. The column names are
Tallyfy's; procflow fills the ones it has the data for (see docs/compatibility.md).
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from procflow.domain import runs as rules
from procflow.domain.permissions import Caller
from procflow.domain.timeutil import format_ts
from procflow.services import runs
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.repositories.runs import RunBundle

COLUMNS = (
    "blueprint_id",
    "blueprint_name",
    "process_id",
    "process_name",
    "process_tag",
    "process_owner_id",
    "total_tasks_in_process",
    "tasks_completed",
    "process_status",
    "process_last_modified",
    "type",
    "task_id",
    "task_name",
    "task_position",
    "task_status",
    "task_assignees",
    "task_deadline",
    "task_completed_at",
    "task_completed_by",
    "form_field_id",
    "form_field_label",
    "form_field_type",
    "form_field_value",
)
Row = dict[str, Any]


def export_run(uow: UnitOfWork, caller: Caller, run_id: str, now: datetime) -> list[Row]:
    """The rows of a run the caller may read."""
    bundle = runs.get_run(uow, caller, run_id, runs.View(tasks=True, captures=True))
    return list(_rows(bundle, now))


def _rows(bundle: RunBundle, now: datetime) -> Iterator[Row]:
    run = bundle.run
    figures = rules.figures(bundle.facts, now)
    common: Row = {
        "blueprint_id": run.checklist_id,
        "blueprint_name": run.checklist_title,
        "process_id": run.id,
        "process_name": run.name,
        "process_tag": ",".join(tag.title for _link, tag in bundle.tags),
        "process_owner_id": run.owner_id,
        "total_tasks_in_process": figures.progress.total,
        "tasks_completed": figures.progress.complete,
        "process_status": rules.status_of(
            rules.lifecycle_status(
                figures.progress.total, figures.progress.complete, figures.has_open_issue
            ).value,
            run.archived_at is not None,
        ),
        "process_last_modified": format_ts(run.last_updated),
    }
    for kickoff in bundle.kickoff:
        yield common | {"type": "kick_off_task"} | _field(kickoff)
    captures = bundle.captures or []
    for task in bundle.tasks or []:
        owners = bundle.task_owners.get(task.id, [])
        task_columns = {
            "task_id": task.id,
            "task_name": task.title,
            "task_position": task.position,
            "task_status": task.status,
            "task_assignees": ",".join(
                str(o.user_id or o.guest_email or o.group_id) for o in owners
            ),
            "task_deadline": format_ts(task.deadline),
            "task_completed_at": format_ts(task.completed_at),
            "task_completed_by": task.completer_id,
        }
        yield common | {"type": "process_task"} | task_columns
        for capture in captures:
            if capture.task_id == task.id:
                yield common | {"type": "process_task_data"} | task_columns | _field(capture)


def _field(field: Any) -> Row:
    return {
        "form_field_id": field.field_id,
        "form_field_label": field.label,
        "form_field_type": field.field_type,
        "form_field_value": field.value,
    }
