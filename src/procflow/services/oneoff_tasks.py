"""Use cases of one-off tasks (tasks outside any process): create, archive, restore, delete.

A one-off task is read, updated, completed and reopened like any task (services/tasks.py);
only light members may not create one, and only an admin or the standard member who
created it may archive, restore or delete it.
"""

from collections.abc import Mapping
from typing import Any

from procflow.domain import permissions
from procflow.domain.etags import Precondition
from procflow.domain.permissions import Caller, Role
from procflow.domain.runs import TaskStatus
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.errors import PermissionDenied, ValidationFailed
from procflow.services import (
    activity,
    file_values,
    mail_events,
    organizations,
    task_owners,
    tasks,
)
from procflow.services.tasks import TaskView
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Task
from procflow.storage.repositories import tasks as repo


def create_oneoff(uow: UnitOfWork, caller: Caller, request: Mapping[str, Any]) -> TaskView:
    """A task outside any process, assigned and due as the client says."""
    if caller.role is Role.LIGHT:
        raise PermissionDenied("Light members cannot create tasks.")
    errors: dict[str, list[str]] = {}
    if request.get("task_type", "task") not in tasks.TASK_TYPES:
        errors["task_type"] = [f"The task type must be one of {', '.join(tasks.TASK_TYPES)}."]
    deadline = tasks.parse_deadline(request.get("deadline"), errors)
    if deadline is None and "deadline" not in errors:
        errors["deadline"] = ["The deadline field is required."]
    owners = request.get("owners")
    if owners is None:
        errors["owners"] = ["The owners field is required."]
    else:
        errors |= task_owners.check_owners(uow, caller, owners)
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    task = Task(
        org_id=caller.org_id,
        increment_id=organizations.next_sequence(uow, caller.org_id, "task_seq"),
        title=request["title"],
        summary=request.get("summary"),
        task_type=request.get("task_type", "task"),
        status=TaskStatus.NOT_STARTED.value,
        position=1,
        deadline=deadline,
        started_at=now,
        prevent_guest_comment=bool(request.get("prevent_guest_comment", False)),
        flags={"starter_id": caller.user_id},
        created_at=now,
        last_updated=now,
    )
    uow.session.add(task)
    uow.session.flush()
    users, guests, groups = task_owners.owner_lists(owners or {})
    repo.replace_owners(uow.session, task.id, users, guests, groups)
    activity.record(uow, caller, "created", "task", task.id, new=task.title)
    assignment = (task.id, users, groups, guests)
    mail_events.assigned(uow, caller.org_id, [assignment], actor_id=caller.user_id)
    return tasks.views(uow, [task])[0]


def _oneoff_for_owner(
    uow: UnitOfWork, caller: Caller, task_id: str, precondition: Precondition | None
) -> Task:
    task, run = tasks.find_task(uow, caller, task_id, None, for_update=True)
    if task.run_id is not None:
        raise ValidationFailed.one("task", "Only one-off tasks can be archived or deleted here.")
    if not permissions.may_remove_oneoff(caller, tasks.task_stake(caller, task, run)):
        raise PermissionDenied("You don't have permission to remove this task.")
    tasks.require_current(uow, precondition, task, run)
    return task


def archive_oneoff(
    uow: UnitOfWork, caller: Caller, task_id: str, *, precondition: Precondition | None = None
) -> None:
    task = _oneoff_for_owner(uow, caller, task_id, precondition)
    if task.archived_at is None:
        now = utcnow()
        task.archived_at = now
        bump(task, None, now=now)
        activity.record(uow, caller, "archived", "task", task.id)


def restore_oneoff(
    uow: UnitOfWork, caller: Caller, task_id: str, *, precondition: Precondition | None = None
) -> TaskView:
    task = _oneoff_for_owner(uow, caller, task_id, precondition)
    if task.archived_at is not None:
        task.archived_at = None
        bump(task, None, now=utcnow())
        activity.record(uow, caller, "unarchived", "task", task.id)
    return tasks.views(uow, [task])[0]


def delete_oneoff(
    uow: UnitOfWork, caller: Caller, task_id: str, *, precondition: Precondition | None = None
) -> None:
    task = _oneoff_for_owner(uow, caller, task_id, precondition)
    activity.record(uow, caller, "deleted", "task", task.id, old=task.title)
    file_values.discard_task_files(uow, task.id)
    uow.session.delete(task)
    uow.session.flush()
