"""Use cases on tasks: tasks of runs and one-off tasks; read, list, update, complete, reopen.

Who may act on a task (decisions.md, roles): admins always; standard members when the
task is assigned to them (directly or through a group), or they own the run (for a
one-off task: created it); light members only on tasks assigned to them. Light members
may fill form values of their tasks but not change a task's properties.
Every writer validates first and raises before writing, so a refused request changes
nothing; every change is recorded in the activity trail.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from procflow.domain import etags
from procflow.domain import runs as rules
from procflow.domain.etags import Precondition
from procflow.domain.form_fields import missing_required
from procflow.domain.permissions import Caller, Role
from procflow.domain.runs import DONE, TaskStatus
from procflow.domain.timeutil import parse_ts, utcnow
from procflow.domain.versioning import bump
from procflow.errors import NotFound, PermissionDenied, ValidationFailed
from procflow.services import (
    activity,
    members,
    organizations,
    people,
    references,
    run_fields,
    runs,
)
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Run, RunField, Step, Task, TaskOwner
from procflow.storage.repositories import runs as run_repo
from procflow.storage.repositories import tasks as repo
from procflow.storage.repositories.runs import RunBundle
from procflow.storage.repositories.tasks import TaskFilter

Change = tuple[str, Any, Any]
TASK_TYPES = ("task", "approval", "expiring", "email", "expiring_email")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SCALARS = ("title", "summary", "deadline", "position", "prevent_guest_comment")
OWNER_KINDS = ("users", "guests", "groups")


@dataclass
class TaskView:
    """A task with what its representation needs."""

    task: Task
    owners: list[TaskOwner] = field(default_factory=list)
    fields: list[RunField] = field(default_factory=list)
    run: Run | None = None
    step: Step | None = None
    bundle: RunBundle | None = None


# ---- reading -------------------------------------------------------------------------


def _find(
    uow: UnitOfWork, caller: Caller, task_id: str, run_id: str | None, *, for_update: bool = False
) -> tuple[Task, Run | None]:
    """The task and its run, if the caller may read them; else NotFound / PermissionDenied.

    Writers pass `for_update`: the run's row is locked (then the task's, if it was read
    before), always in that order, so writers of one task or run go one at a time."""
    run = runs.load(uow, caller, run_id, for_update=for_update) if run_id is not None else None
    task = repo.get(uow.session, caller.org_id, task_id)
    if task is None or (run_id is not None and task.run_id != run_id):
        raise NotFound("Task")
    if run is None and task.run_id is not None:
        run = runs.load(uow, caller, task.run_id, for_update=for_update)
    if for_update and run_id is None:
        task = repo.get(uow.session, caller.org_id, task_id, for_update=True) or task
    if run is None and not _may_read_oneoff(uow, caller, task):
        raise PermissionDenied("You don't have permission to view this task.")
    return task, run


def _may_read_oneoff(uow: UnitOfWork, caller: Caller, task: Task) -> bool:
    if caller.role is not Role.LIGHT:
        return True
    return _starter(task) == caller.user_id or _assigned(uow, caller, task)


def _starter(task: Task) -> int | None:
    value = (task.flags or {}).get("starter_id")
    return value if isinstance(value, int) else None


def _assigned(uow: UnitOfWork, caller: Caller, task: Task) -> bool:
    owners = repo.owners_of(uow.session, [task.id])[task.id]
    if any(o.user_id == caller.user_id for o in owners):
        return True
    groups = {o.group_id for o in owners if o.group_id}
    return bool(groups and groups & repo.group_ids_of_user(uow.session, caller.user_id))


def may_act(uow: UnitOfWork, caller: Caller, task: Task, run: Run | None) -> bool:
    """Complete, reopen, or fill the form values of a task."""
    if caller.is_admin:
        return True
    if caller.role is Role.STANDARD:
        if run is not None and run.owner_id == caller.user_id:
            return True
        if run is None and _starter(task) == caller.user_id:
            return True
    return _assigned(uow, caller, task)


def _require_act(uow: UnitOfWork, caller: Caller, task: Task, run: Run | None) -> None:
    if not may_act(uow, caller, task, run):
        raise PermissionDenied("You don't have permission to act on this task.")


def _require_edit(uow: UnitOfWork, caller: Caller, task: Task, run: Run | None) -> None:
    if caller.role is Role.LIGHT or not may_act(uow, caller, task, run):
        raise PermissionDenied("You don't have permission to edit this task.")


def views(
    uow: UnitOfWork, tasks: Sequence[Task], *, steps: bool = False, bundles: bool = False
) -> list[TaskView]:
    """Load owners, form values, runs (steps and run bundles if asked) of tasks."""
    ids = [t.id for t in tasks]
    owners = repo.owners_of(uow.session, ids)
    fields = repo.fields_of(uow.session, ids)
    run_map = repo.runs_of(uow.session, {t.run_id for t in tasks if t.run_id})
    step_map = repo.steps_of(uow.session, {t.step_id for t in tasks if t.step_id}) if steps else {}
    bundle_map = (
        {run_id: run_repo.bundle(uow.session, run) for run_id, run in run_map.items()}
        if bundles
        else {}
    )
    return [
        TaskView(
            task=t,
            owners=owners[t.id],
            fields=fields[t.id],
            run=run_map.get(t.run_id) if t.run_id else None,
            step=step_map.get(t.step_id) if t.step_id else None,
            bundle=bundle_map.get(t.run_id) if t.run_id else None,
        )
        for t in tasks
    ]


def get_task(
    uow: UnitOfWork,
    caller: Caller,
    task_id: str,
    run_id: str | None = None,
    *,
    with_run: bool = False,
) -> TaskView:
    task, _run = _find(uow, caller, task_id, run_id)
    return views(uow, [task], steps=True, bundles=with_run)[0]


def list_run_tasks(
    uow: UnitOfWork,
    caller: Caller,
    run_id: str,
    flt: TaskFilter,
    *,
    offset: int,
    limit: int | None,
    now: datetime,
    with_run: bool = False,
) -> tuple[list[TaskView], int]:
    """The tasks of one run the caller may read."""
    runs.load(uow, caller, run_id)
    query = repo.filtered(select(Task).where(Task.run_id == run_id), flt, now)
    found, total = repo.page(uow.session, query, flt.sort, offset, limit)
    return views(uow, found, steps=True, bundles=with_run), total


def list_org_tasks(
    uow: UnitOfWork,
    caller: Caller,
    flt: TaskFilter,
    *,
    offset: int,
    limit: int | None,
    now: datetime,
    with_run: bool = False,
    assignee: int | None = None,
) -> tuple[list[TaskView], int]:
    """Tasks of the organization (or only those assigned to `assignee`, directly or through
    a group); light members see only those they are involved in."""
    query = select(Task).where(Task.org_id == caller.org_id)
    if assignee is not None:
        query = query.where(repo.assigned_to(assignee))
    if flt.archived not in ("only", "true"):
        query = query.where(repo.live_runs())
    if caller.role is Role.LIGHT:
        query = query.where(
            or_(
                repo.assigned_to(caller.user_id),
                repo.in_runs_involving(caller.user_id),
                repo.started_by(caller.user_id),
            )
        )
    found, total = repo.page(uow.session, repo.filtered(query, flt, now), flt.sort, offset, limit)
    return views(uow, found, steps=True, bundles=with_run), total


def member_tasks(
    uow: UnitOfWork,
    caller: Caller,
    user_id: int,
    flt: TaskFilter,
    *,
    offset: int,
    limit: int | None,
    now: datetime,
    with_run: bool = False,
) -> tuple[list[TaskView], int]:
    """Tasks of the organization assigned to one of its members (directly or through a
    group), as the caller may see them: light members see only the tasks they are involved
    in (as in the task list)."""
    members.get_member(uow, caller, user_id)  # 404 unless a member (disabled ones count)
    return list_org_tasks(
        uow, caller, flt, offset=offset, limit=limit, now=now, with_run=with_run, assignee=user_id
    )


def my_tasks(
    uow: UnitOfWork,
    user_id: int,
    flt: TaskFilter,
    *,
    offset: int,
    limit: int | None,
    now: datetime,
    with_run: bool = False,
) -> tuple[list[TaskView], int]:
    """Tasks assigned to the user in every organization they belong to."""
    org_ids = [org.id for org in people.organizations_of(uow, user_id)]
    query = select(Task).where(
        Task.org_id.in_(org_ids), repo.live_runs(), repo.assigned_to(user_id)
    )
    found, total = repo.page(uow.session, repo.filtered(query, flt, now), flt.sort, offset, limit)
    return views(uow, found, steps=True, bundles=with_run), total


# ---- entity tags ---------------------------------------------------------------------


def etag_of(
    uow: UnitOfWork,
    task: Task,
    run: Run | None,
    now: datetime,
    facts: Sequence[rules.TaskFacts] | None = None,
) -> str:
    """The task's entity tag at `now`.

    A task of a run changes with its run (`version` moves on every change to the run, its
    tasks, their values and comments; `?with=run` embeds the run, whose lateness figures
    are part of the tag too); a one-off task with its own `last_updated`, which every
    change moves forward. `facts` (the run's, if already loaded) spare a query.
    """
    overdue = bool(task.deadline and task.status not in DONE and task.deadline < now)
    stamp: tuple[object, ...] = (task.last_updated.isoformat(),)
    if run is not None:
        if facts is None:
            uow.session.flush()
            facts = run_repo.facts_of(uow.session, run.id)
        figures = rules.figures(facts, now)
        clock = (figures.late_tasks, figures.due_date_passed, figures.due_soon)
        stamp = (run.version, *stamp, *clock)
    return etags.task_etag(task.id, stamp, overdue)


def require_current(
    uow: UnitOfWork, precondition: Precondition | None, task: Task, run: Run | None
) -> None:
    """Refuse (412) a write whose `If-Match` names another state than the task's current
    one; call it with the rows locked (`_find(..., for_update=True)`), before writing."""
    if precondition is not None:
        etags.require(precondition, etag_of(uow, task, run, utcnow()))


# ---- validation ----------------------------------------------------------------------


def _check_owners(uow: UnitOfWork, caller: Caller, owners: Any) -> dict[str, list[str]]:
    if not isinstance(owners, Mapping):
        return {"owners": ["The owners field must be an object with users, guests, groups."]}
    errors: dict[str, list[str]] = {}
    for kind in OWNER_KINDS:
        if not isinstance(owners.get(kind, []), list):
            errors[f"owners.{kind}"] = [f"The owners.{kind} field must be a list."]
    if errors:
        return errors
    users, guests, groups = (owners.get(kind, []) for kind in OWNER_KINDS)
    if not all(isinstance(u, int) and not isinstance(u, bool) for u in users):
        errors["owners.users"] = ["Owners must be user ids."]
    else:
        errors |= references.check_users(uow, caller.org_id, users, field="owners.users")
    for index, email in enumerate(guests):
        if not isinstance(email, str) or len(email) > 254 or not EMAIL.match(email):
            errors[f"owners.guests.{index}"] = ["A guest must be a valid email address."]
    if not all(isinstance(g, str) for g in groups):
        errors["owners.groups"] = ["Groups must be group ids."]
    else:
        known = repo.existing_group_ids(uow.session, caller.org_id, set(groups))
        for index, group_id in enumerate(groups):
            if group_id not in known:
                errors[f"owners.groups.{index}"] = [f"The selected group {group_id} is invalid."]
    return errors


def _owner_lists(owners: Mapping[str, Any]) -> tuple[list[int], list[str], list[str]]:
    return (
        list(dict.fromkeys(owners.get("users", []))),
        list(dict.fromkeys(e.lower() for e in owners.get("guests", []))),
        list(dict.fromkeys(owners.get("groups", []))),
    )


def _owners_dict(owners: Sequence[TaskOwner]) -> dict[str, list[Any]]:
    return {
        "users": [o.user_id for o in owners if o.user_id is not None],
        "guests": [o.guest_email for o in owners if o.guest_email is not None],
        "groups": [o.group_id for o in owners if o.group_id is not None],
    }


def _parse_deadline(value: Any, errors: dict[str, list[str]]) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_ts(value)
    except (ValueError, TypeError, AttributeError):
        errors["deadline"] = ["The deadline is not a valid date (ISO 8601)."]
        return None


# ---- writing -------------------------------------------------------------------------


def update_task(
    uow: UnitOfWork,
    caller: Caller,
    task_id: str,
    patch: Mapping[str, Any],
    *,
    run_id: str | None = None,
    strict: bool = False,
    precondition: Precondition | None = None,
) -> TaskView:
    """Partial update; owners replace; taskdata is validated like the run PUT's."""
    task, run = _find(uow, caller, task_id, run_id, for_update=True)
    if set(patch) - {"taskdata"}:
        _require_edit(uow, caller, task, run)
    elif patch:
        _require_act(uow, caller, task, run)
    require_current(uow, precondition, task, run)
    if task.status in DONE:
        raise ValidationFailed.one("task", "A completed task cannot be edited.")
    errors: dict[str, list[str]] = {}
    deadline = _parse_deadline(patch["deadline"], errors) if "deadline" in patch else None
    if "owners" in patch:
        errors |= _check_owners(uow, caller, patch["owners"])
    fields, values, problems = check_taskdata(uow, task, patch.get("taskdata"), strict)
    errors |= problems
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    wanted = {**patch, "deadline": deadline} if "deadline" in patch else dict(patch)
    changes: list[Change] = []
    for key in SCALARS:
        if key in wanted and getattr(task, key) != wanted[key]:
            changes.append((key, getattr(task, key), wanted[key]))
            setattr(task, key, wanted[key])
    changes += [(f"taskdata.{k}", o, n) for k, o, n in run_fields.apply(fields, values, now)]
    owners_change = _replace_owners(uow, task, patch.get("owners"))
    if changes or owners_change:
        bump(task, run, now=now)
        activity.record_changes(uow, caller, "task", task.id, changes, run_id=task.run_id)
        if owners_change:
            _, old, new = owners_change
            activity.record(
                uow, caller, "owners-updated", "task", task.id,
                run_id=task.run_id, field="owners", old=old, new=new,
            )  # fmt: skip
        uow.session.flush()
    return views(uow, [task], steps=True)[0]


def check_taskdata(
    uow: UnitOfWork, task: Task, taskdata: Any, strict: bool
) -> tuple[dict[str, RunField], dict[str, Any], dict[str, list[str]]]:
    """The task's stored form values by field id, the sent values to write, and errors."""
    fields = {f.field_id: f for f in repo.fields_of(uow.session, [task.id])[task.id]}
    if not taskdata:
        return fields, {}, {}
    values, errors = run_fields.check(fields.values(), taskdata, "taskdata", strict)
    return fields, values, errors


def _replace_owners(uow: UnitOfWork, task: Task, owners: Mapping[str, Any] | None) -> Change | None:
    if owners is None:
        return None
    before = _owners_dict(repo.owners_of(uow.session, [task.id])[task.id])
    users, guests, groups = _owner_lists(owners or {})
    after = {"users": users, "guests": guests, "groups": groups}
    if before == after:
        return None
    repo.replace_owners(uow.session, task.id, users, guests, groups)
    return ("owners", before, after)


def complete_task(
    uow: UnitOfWork,
    caller: Caller,
    task_id: Any,
    is_approved: Any = None,
    *,
    run_id: str | None = None,
    precondition: Precondition | None = None,
) -> TaskView:
    """Complete a task: approvals need a verdict; required form values must be filled."""
    if not isinstance(task_id, str) or not task_id:
        raise ValidationFailed.one("task_id", "The task id field is required.")
    if run_id is not None:
        runs.load(uow, caller, run_id)
    try:
        task, run = _find(uow, caller, task_id, run_id, for_update=True)
    except NotFound:
        raise ValidationFailed.one("task_id", "The selected task id is invalid.") from None
    if run_id is None and task.run_id is not None:
        raise ValidationFailed.one("task_id", "Complete process tasks through their process.")
    _require_act(uow, caller, task, run)
    require_current(uow, precondition, task, run)
    check_completable(uow, task, is_approved)
    now = utcnow()
    old_status = task.status
    mark_completed(task, run, now, is_approved, completer_id=caller.user_id)
    activity.record(
        uow, caller, "completed", "task", task.id,
        run_id=task.run_id, field="status", old=old_status, new=task.status,
    )  # fmt: skip
    uow.session.flush()
    if run is not None and complete_run_if_done(uow, run, now):
        activity.record(uow, caller, "completed", "run", run.id, run_id=run.id)
    return views(uow, [task], steps=True)[0]


def check_completable(uow: UnitOfWork, task: Task, is_approved: Any) -> None:
    """Refuse (422) a task that is done, an approval without verdict, or missing values."""
    if task.status in DONE:
        raise ValidationFailed.one("task_id", "The task is already completed.")
    errors: dict[str, list[str]] = {}
    if task.task_type == "approval" and not isinstance(is_approved, bool):
        errors["is_approved"] = ["An approval task needs is_approved (true or false)."]
    fields = repo.fields_of(uow.session, [task.id])[task.id]
    specs = {f.field_id: run_fields.spec_of(f) for f in fields}
    errors |= missing_required(specs, {f.field_id: f.value for f in fields}, "taskdata")
    if errors:
        raise ValidationFailed(errors)


def mark_completed(
    task: Task, run: Run | None, now: datetime, is_approved: Any, *, completer_id: int | None
) -> None:
    """Set a checked task completed (by a member, or by nobody for a guest's completion)."""
    task.status = TaskStatus.COMPLETED.value
    task.completed_at = now
    task.completer_id = completer_id
    if task.task_type == "approval":
        task.is_approved = is_approved
    bump(task, run, now=now)


def complete_run_if_done(uow: UnitOfWork, run: Run, now: datetime) -> bool:
    """Mark the run complete once every task is done; True if it just became complete."""
    if run.completed_at is not None:
        return False
    rest = repo.run_tasks(uow.session, run.id)
    if rest and all(t.status in DONE for t in rest):
        run.completed_at = now
        return True
    return False


def reopen_task(
    uow: UnitOfWork,
    caller: Caller,
    task_id: str,
    *,
    run_id: str | None = None,
    precondition: Precondition | None = None,
) -> TaskView:
    """Reopen a completed task; its run is no longer complete."""
    task, run = _find(uow, caller, task_id, run_id, for_update=True)
    if run_id is None and task.run_id is not None:
        raise ValidationFailed.one("task_id", "Reopen process tasks through their process.")
    _require_act(uow, caller, task, run)
    require_current(uow, precondition, task, run)
    check_reopenable(task)
    old_status = task.status
    run_reopened = mark_reopened(task, run, utcnow())
    activity.record(
        uow, caller, "re-opened", "task", task.id,
        run_id=task.run_id, field="status", old=old_status, new=task.status,
    )  # fmt: skip
    if run is not None and run_reopened:
        activity.record(uow, caller, "re-opened", "run", run.id, run_id=run.id)
    uow.session.flush()
    return views(uow, [task], steps=True)[0]


def check_reopenable(task: Task) -> None:
    if task.status != TaskStatus.COMPLETED.value:
        raise ValidationFailed.one("task_id", "The task is not completed.")


def mark_reopened(task: Task, run: Run | None, now: datetime) -> bool:
    """Set a completed task in progress again; True if its run was complete until now."""
    task.status = TaskStatus.IN_PROGRESS.value
    task.completed_at = None
    task.completer_id = None
    task.is_approved = None
    if "completer_guest_id" in (task.flags or {}):
        task.flags = {k: v for k, v in task.flags.items() if k != "completer_guest_id"}
    bump(task, run, now=now)
    if run is None or run.completed_at is None:
        return False
    run.completed_at = None
    return True


# ---- one-off tasks -------------------------------------------------------------------


def create_oneoff(uow: UnitOfWork, caller: Caller, request: Mapping[str, Any]) -> TaskView:
    """A task outside any process, assigned and due as the client says."""
    if caller.role is Role.LIGHT:
        raise PermissionDenied("Light members cannot create tasks.")
    errors: dict[str, list[str]] = {}
    if request.get("task_type", "task") not in TASK_TYPES:
        errors["task_type"] = [f"The task type must be one of {', '.join(TASK_TYPES)}."]
    deadline = _parse_deadline(request.get("deadline"), errors)
    if deadline is None and "deadline" not in errors:
        errors["deadline"] = ["The deadline field is required."]
    owners = request.get("owners")
    if owners is None:
        errors["owners"] = ["The owners field is required."]
    else:
        errors |= _check_owners(uow, caller, owners)
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
    users, guests, groups = _owner_lists(owners or {})
    repo.replace_owners(uow.session, task.id, users, guests, groups)
    activity.record(uow, caller, "created", "task", task.id, new=task.title)
    return views(uow, [task])[0]


def _oneoff_for_owner(
    uow: UnitOfWork, caller: Caller, task_id: str, precondition: Precondition | None
) -> Task:
    task, run = _find(uow, caller, task_id, None, for_update=True)
    if task.run_id is not None:
        raise ValidationFailed.one("task", "Only one-off tasks can be archived or deleted here.")
    if not (caller.is_admin or (caller.role is Role.STANDARD and _starter(task) == caller.user_id)):
        raise PermissionDenied("You don't have permission to remove this task.")
    require_current(uow, precondition, task, run)
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
    return views(uow, [task])[0]


def delete_oneoff(
    uow: UnitOfWork, caller: Caller, task_id: str, *, precondition: Precondition | None = None
) -> None:
    task = _oneoff_for_owner(uow, caller, task_id, precondition)
    activity.record(uow, caller, "deleted", "task", task.id, old=task.title)
    uow.session.delete(task)
    uow.session.flush()
