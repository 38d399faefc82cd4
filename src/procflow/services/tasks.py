"""Use cases on a member's task, of a run or one-off: read, update, complete, reopen.

Who may act on a task (decisions.md, roles; the predicates are in domain/permissions.py):
admins always; standard members when the task is assigned to them (directly or through a
group), or they own the run (for a one-off task: created it); light members only on tasks
assigned to them. Light members may fill form values of their tasks but not change a
task's properties. How a task is completed and reopened is domain/task_lifecycle.py.
Every writer validates first and raises before writing, so a refused request changes
nothing; every change is recorded in the activity trail. Lists of tasks are in
services/task_search.py, owners in services/task_owners.py, the one-off tasks' own use
cases in services/oneoff_tasks.py.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from procflow.domain import etags, permissions
from procflow.domain import runs as rules
from procflow.domain import task_lifecycle as lifecycle
from procflow.domain.etags import Precondition
from procflow.domain.form_fields import missing_required
from procflow.domain.permissions import Caller, TaskStake
from procflow.domain.runs import DONE
from procflow.domain.timeutil import parse_ts, utcnow
from procflow.domain.versioning import bump
from procflow.domain.webhooks import EventType as E
from procflow.errors import NotFound, PermissionDenied, ValidationFailed
from procflow.services import (
    activity,
    automations,
    events,
    mail_events,
    run_fields,
    runs,
    task_owners,
)
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Checklist, Run, RunField, Step, Task, TaskOwner
from procflow.storage.repositories import runs as run_repo
from procflow.storage.repositories import tasks as repo
from procflow.storage.repositories.runs import RunBundle

Change = tuple[str, Any, Any]
TASK_TYPES = ("task", "approval", "expiring", "email", "expiring_email")
SCALARS = ("title", "summary", "deadline", "position", "prevent_guest_comment")


@dataclass
class TaskView:
    """A task with what its representation needs."""

    task: Task
    owners: list[TaskOwner] = field(default_factory=list)
    fields: list[RunField] = field(default_factory=list)
    run: Run | None = None
    step: Step | None = None
    bundle: RunBundle | None = None
    changed_by_rules: list["TaskView"] = field(default_factory=list)


# ---- reading -------------------------------------------------------------------------


def find_task(
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
    if run is None and not (
        permissions.may_read_oneoff_unassigned(caller, task_stake(caller, task, run))
        or _assigned(uow, caller, task)
    ):
        raise PermissionDenied("You don't have permission to view this task.")
    return task, run


def starter_of(task: Task) -> int | None:
    """The member who created a one-off task."""
    value = (task.flags or {}).get("starter_id")
    return value if isinstance(value, int) else None


def task_stake(caller: Caller, task: Task, run: Run | None) -> TaskStake:
    """How the caller is involved in the task, assignment aside."""
    return TaskStake(
        owns_run=run is not None and run.owner_id == caller.user_id,
        started=run is None and starter_of(task) == caller.user_id,
    )


def _assigned(uow: UnitOfWork, caller: Caller, task: Task) -> bool:
    owners = repo.owners_of(uow.session, [task.id])[task.id]
    if any(o.user_id == caller.user_id for o in owners):
        return True
    groups = {o.group_id for o in owners if o.group_id}
    return bool(groups and groups & repo.group_ids_of_user(uow.session, caller.user_id))


def may_act(uow: UnitOfWork, caller: Caller, task: Task, run: Run | None) -> bool:
    """Complete, reopen, or fill the form values of a task."""
    return permissions.may_act_unassigned(caller, task_stake(caller, task, run)) or _assigned(
        uow, caller, task
    )


def _require_act(uow: UnitOfWork, caller: Caller, task: Task, run: Run | None) -> None:
    if not may_act(uow, caller, task, run):
        raise PermissionDenied("You don't have permission to act on this task.")


def _require_edit(uow: UnitOfWork, caller: Caller, task: Task, run: Run | None) -> None:
    if not permissions.may_edit_task(caller) or not may_act(uow, caller, task, run):
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
    task, _run = find_task(uow, caller, task_id, run_id)
    return views(uow, [task], steps=True, bundles=with_run)[0]


def add_run_checklists(uow: UnitOfWork, views: Sequence[TaskView]) -> None:
    """Put each embedded run's template in its bundle, for `?with=run.checklist`."""
    for view in views:
        bundle = view.bundle
        if bundle is not None and bundle.run.checklist_id and "checklist" not in bundle.extra:
            bundle.extra["checklist"] = uow.session.get(Checklist, bundle.run.checklist_id)


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
    one; call it with the rows locked (`find_task(..., for_update=True)`), before writing."""
    if precondition is not None:
        etags.require(precondition, etag_of(uow, task, run, utcnow()))


# ---- validation ----------------------------------------------------------------------


def parse_deadline(value: Any, errors: dict[str, list[str]]) -> datetime | None:
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
    task, run = find_task(uow, caller, task_id, run_id, for_update=True)
    if set(patch) - {"taskdata"}:
        _require_edit(uow, caller, task, run)
    elif patch:
        _require_act(uow, caller, task, run)
    require_current(uow, precondition, task, run)
    if task.status in DONE:
        raise ValidationFailed.one("task", "A completed task cannot be edited.")
    errors: dict[str, list[str]] = {}
    deadline = parse_deadline(patch["deadline"], errors) if "deadline" in patch else None
    if "owners" in patch:
        errors |= task_owners.check_owners(uow, caller, patch["owners"])
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
    values_changed = run_fields.apply(fields, values, now)
    changes += [(f"taskdata.{k}", o, n) for k, o, n in values_changed]
    owners_change = task_owners.replace_owners(uow, task, patch.get("owners"))
    if changes or owners_change:
        bump(task, run, now=now)
        activity.record_changes(uow, caller, "task", task.id, changes, run_id=task.run_id)
        if owners_change:
            _, old, new = owners_change
            activity.record(
                uow, caller, "owners-updated", "task", task.id,
                run_id=task.run_id, field="owners", old=old, new=new,
            )  # fmt: skip
            users, groups, guests = mail_events.owners_added(old, new)
            mail_events.assigned(
                uow, task.org_id, [(task.id, users, groups, guests)],
                run_id=task.run_id, actor_id=caller.user_id,
            )  # fmt: skip
        uow.session.flush()
    if values_changed:
        automations.evaluate(uow, _actor(caller), task.run_id)
    return views(uow, [task], steps=True)[0]


def check_taskdata(
    uow: UnitOfWork, task: Task, taskdata: Any, strict: bool
) -> tuple[dict[str, RunField], dict[str, Any], dict[str, list[str]]]:
    """The task's stored form values by field id, the sent values to write, and errors."""
    fields = {f.field_id: f for f in repo.fields_of(uow.session, [task.id])[task.id]}
    if not taskdata:
        return fields, {}, {}
    values, errors = run_fields.check(fields.values(), taskdata, "taskdata", strict)
    if task.run_id is not None and values:
        run = runs.load_any(uow, task.run_id)
        errors |= run_fields.resolve_files(
            uow, run, fields.values(), values, [("Run", run.id)], "taskdata"
        )
    return fields, values, errors


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
        task, run = find_task(uow, caller, task_id, run_id, for_update=True)
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
    events.emit(uow, task.org_id, E.TASK_COMPLETED, run_id=task.run_id, task_id=task.id,
                actor_id=caller.user_id)  # fmt: skip
    uow.session.flush()
    changed = automations.evaluate(uow, _actor(caller), task.run_id)
    if run is not None and complete_run_if_done(uow, run, now):
        activity.record(uow, caller, "completed", "run", run.id, run_id=run.id)
        events.emit(uow, run.org_id, E.PROCESS_COMPLETED, run_id=run.id, actor_id=caller.user_id)
    return view_after_rules(uow, task, changed)


def view_after_rules(uow: UnitOfWork, task: Task, changed: frozenset[str]) -> TaskView:
    """The task's view with those of the tasks its run's rules just changed (the task
    itself among them, if they did): completion answers list them."""
    others = [uow.session.get(Task, task_id) for task_id in sorted(changed)]
    found = views(uow, [task, *(t for t in others if t is not None)], steps=True)
    found[0].changed_by_rules = found[1:]
    return found[0]


def check_completable(uow: UnitOfWork, task: Task, is_approved: Any) -> None:
    """Refuse (422) a task that is done, an approval without verdict, or missing values."""
    lifecycle.refuse_completed(task.status)
    if (task.flags or {}).get(automations.HIDDEN):
        raise ValidationFailed.one("task_id", "The task's step is hidden by an automation.")
    errors = lifecycle.verdict_errors(task.task_type, is_approved)
    fields = repo.fields_of(uow.session, [task.id])[task.id]
    specs = {f.field_id: run_fields.spec_of(f) for f in fields}
    errors |= missing_required(specs, {f.field_id: f.value for f in fields}, "taskdata")
    if errors:
        raise ValidationFailed(errors)


def mark_completed(
    task: Task, run: Run | None, now: datetime, is_approved: Any, *, completer_id: int | None
) -> None:
    """Set a checked task completed (by a member, or by nobody for a guest's completion)."""
    changes = lifecycle.completed(task.task_type, now, is_approved, completer_id)
    for name, value in changes.items():
        setattr(task, name, value)
    bump(task, run, now=now)


def complete_run_if_done(uow: UnitOfWork, run: Run, now: datetime) -> bool:
    """Mark the run complete once every task is done; True if it just became complete."""
    if run.completed_at is not None:
        return False
    rest = repo.run_tasks(uow.session, run.id)
    if lifecycle.run_is_done([t.status for t in rest]):
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
    task, run = find_task(uow, caller, task_id, run_id, for_update=True)
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
    events.emit(uow, task.org_id, E.TASK_REOPENED, run_id=task.run_id, task_id=task.id,
                actor_id=caller.user_id)  # fmt: skip
    uow.session.flush()
    changed = automations.evaluate(uow, _actor(caller), task.run_id)
    return view_after_rules(uow, task, changed)


def _actor(caller: Caller) -> automations.Actor:
    return automations.actor_of_member(caller.org_id, caller.user_id)


def check_reopenable(task: Task) -> None:
    lifecycle.refuse_not_completed(task.status)


def mark_reopened(task: Task, run: Run | None, now: datetime) -> bool:
    """Set a completed task in progress again; True if its run was complete until now."""
    for name, value in lifecycle.reopened(task.flags).items():
        setattr(task, name, value)
    bump(task, run, now=now)
    if run is None or not lifecycle.run_reopens(run.completed_at):
        return False
    run.completed_at = None
    return True
