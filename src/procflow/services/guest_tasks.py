"""A guest acting on its own tasks: read them, fill their form values, complete, reopen.

A guest reaches only live tasks (of live runs) that name its email as an owner; every
other task is simply not found. The checks are those members get (services/tasks.py);
the activity records name the guest, and a guest's completion leaves `completer_id` null
and keeps the guest's id in the task's flags.
"""

from collections.abc import Mapping
from typing import Any

from procflow.domain.etags import Precondition
from procflow.domain.runs import DONE
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.domain.webhooks import EventType as E
from procflow.errors import NotFound, PermissionDenied, ValidationFailed
from procflow.services import activity, automations, events, run_fields
from procflow.services import tasks as member_tasks
from procflow.services.guests import GuestCaller
from procflow.services.tasks import TaskView
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Run, Task
from procflow.storage.repositories import activity as activity_repo
from procflow.storage.repositories import guests as guest_repo
from procflow.storage.repositories import runs as run_repo
from procflow.storage.repositories import tasks as task_repo

GUEST_WRITABLE = frozenset({"taskdata"})


def get_task(
    uow: UnitOfWork, guest: GuestCaller, task_id: str, run_id: str | None = None
) -> TaskView:
    """One of the guest's own tasks."""
    task, _run = _own_task(uow, guest, task_id, run_id)
    return member_tasks.views(uow, [task], steps=True)[0]


def update_task(
    uow: UnitOfWork,
    guest: GuestCaller,
    task_id: str,
    patch: Mapping[str, Any],
    *,
    run_id: str | None = None,
    strict: bool = False,
    precondition: Precondition | None = None,
) -> TaskView:
    """Fill form values of the guest's own task; a guest may change nothing else."""
    task, run = _own_task(uow, guest, task_id, run_id, for_update=True)
    if set(patch) - GUEST_WRITABLE:
        raise PermissionDenied("Guests may only fill in the form values of their tasks.")
    member_tasks.require_current(uow, precondition, task, run)
    if task.status in DONE:
        raise ValidationFailed.one("task", "A completed task cannot be edited.")
    fields, values, errors = member_tasks.check_taskdata(uow, task, patch.get("taskdata"), strict)
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    changes = [(f"taskdata.{k}", o, n) for k, o, n in run_fields.apply(fields, values, now)]
    if changes:
        bump(task, run, now=now)
        _record(uow, guest, "updated", task, changes)
        uow.session.flush()
        automations.evaluate(uow, _actor(guest), task.run_id)
    return member_tasks.views(uow, [task], steps=True)[0]


def complete_task(
    uow: UnitOfWork,
    guest: GuestCaller,
    task_id: Any,
    is_approved: Any,
    *,
    run_id: str,
    precondition: Precondition | None = None,
) -> TaskView:
    """Complete the guest's own task of a run, with the checks a member's completion has."""
    if not isinstance(task_id, str) or not task_id:
        raise ValidationFailed.one("task_id", "The task id field is required.")
    task, run = _own_task(uow, guest, task_id, run_id, for_update=True)
    member_tasks.require_current(uow, precondition, task, run)
    member_tasks.check_completable(uow, task, is_approved)
    now = utcnow()
    old_status = task.status
    member_tasks.mark_completed(task, run, now, is_approved, completer_id=None)
    task.flags = {**(task.flags or {}), "completer_guest_id": guest.guest_id}
    _record(uow, guest, "completed", task, [("status", old_status, task.status)])
    events.emit(uow, task.org_id, E.TASK_COMPLETED, run_id=task.run_id, task_id=task.id)
    uow.session.flush()
    changed = automations.evaluate(uow, _actor(guest), task.run_id)
    if run is not None and member_tasks.complete_run_if_done(uow, run, now):
        _record_run(uow, guest, "completed", run)
        events.emit(uow, run.org_id, E.PROCESS_COMPLETED, run_id=run.id)
    return member_tasks.view_after_rules(uow, task, changed)


def reopen_task(
    uow: UnitOfWork,
    guest: GuestCaller,
    task_id: str,
    *,
    run_id: str,
    precondition: Precondition | None = None,
) -> TaskView:
    """Reopen the guest's own completed task; its run is no longer complete."""
    task, run = _own_task(uow, guest, task_id, run_id, for_update=True)
    member_tasks.require_current(uow, precondition, task, run)
    member_tasks.check_reopenable(task)
    old_status = task.status
    run_reopened = member_tasks.mark_reopened(task, run, utcnow())
    _record(uow, guest, "re-opened", task, [("status", old_status, task.status)])
    if run is not None and run_reopened:
        _record_run(uow, guest, "re-opened", run)
    events.emit(uow, task.org_id, E.TASK_REOPENED, run_id=task.run_id, task_id=task.id)
    uow.session.flush()
    changed = automations.evaluate(uow, _actor(guest), task.run_id)
    return member_tasks.view_after_rules(uow, task, changed)


def _actor(guest: GuestCaller) -> automations.Actor:
    return automations.actor_of_guest(guest.org_id, guest.guest_id)


def _own_task(
    uow: UnitOfWork,
    guest: GuestCaller,
    task_id: str,
    run_id: str | None,
    *,
    for_update: bool = False,
) -> tuple[Task, Run | None]:
    """Writers pass `for_update`: the run's row, then the task's, are locked and re-read."""
    task = guest_repo.assigned_task(uow.session, guest.org_id, guest.email, task_id)
    if task is None or (run_id is not None and task.run_id != run_id):
        raise NotFound("Task")
    run: Run | None = None
    if task.run_id is not None:
        run = run_repo.get(uow.session, guest.org_id, task.run_id, for_update=for_update)
    if for_update:
        task = task_repo.get(uow.session, guest.org_id, task.id, for_update=True) or task
    return task, run


def _row(guest: GuestCaller, verb: str, object_type: str, object_id: str) -> dict[str, Any]:
    return {
        "org_id": guest.org_id,
        "actor_type": activity.GUEST,
        "actor_id": guest.guest_id,
        "verb": verb,
        "object_type": object_type,
        "object_id": object_id,
        "run_id": None,
        "field": None,
        "old_value": None,
        "new_value": None,
        "description": None,
        "created_at": utcnow(),
    }


def _record(
    uow: UnitOfWork, guest: GuestCaller, verb: str, task: Task, changes: list[member_tasks.Change]
) -> None:
    """One record per changed field of the task, naming the guest as the actor."""
    activity_repo.append(
        uow.session,
        [
            _row(guest, verb, "task", task.id)
            | {"run_id": task.run_id, "field": field, "old_value": old, "new_value": new}
            for field, old, new in changes
        ],
    )


def _record_run(uow: UnitOfWork, guest: GuestCaller, verb: str, run: Run) -> None:
    activity_repo.append(uow.session, [_row(guest, verb, "run", run.id) | {"run_id": run.id}])
