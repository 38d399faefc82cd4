"""Launching a run from a template: the run, its tasks, and its copies of the fields.

Assignment precedence per task: the launch request's `tasks[step].owners`, then the
step's own assignees, then the launcher when the step says `assign_run_starter`.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from procflow.domain import permissions
from procflow.domain.deadlines import apply_rule
from procflow.domain.form_fields import FieldSpec, missing_required, validate_values
from procflow.domain.permissions import Caller
from procflow.domain.timeutil import parse_ts, utcnow
from procflow.domain.webhooks import EventType
from procflow.errors import PermissionDenied, ValidationFailed
from procflow.services import (
    activity,
    automations,
    events,
    file_values,
    mail_events,
    organizations,
    references,
    task_owners,
)
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import (
    Checklist,
    FolderLink,
    FormField,
    Run,
    RunField,
    RunGroup,
    RunMember,
    Step,
    TagLink,
    Task,
    TaskOwner,
)
from procflow.storage.repositories import runs as run_repo
from procflow.storage.repositories.runs import RunBundle

INHERITED_FLAGS = (
    "everyone_must_complete",
    "can_complete_only_assignees",
    "top_secret",
    "allow_guest_owners",
    "is_soft_start_date",
    "send_chromeless",
)


def spec_of(field: FormField) -> FieldSpec:
    return FieldSpec(
        field.id,
        field.field_type,
        field.label,
        field.required,
        field.options or (),
        field.columns or (),
    )


def launch_run(
    uow: UnitOfWork, caller: Caller, request: Mapping[str, Any], *, strict: bool = False
) -> RunBundle:
    if not permissions.can_launch(caller):
        raise PermissionDenied("You don't have permission to launch processes.")
    session = uow.session
    checklist = session.get(Checklist, request["checklist_id"])
    if checklist is None or checklist.org_id != caller.org_id or checklist.archived_at:
        raise ValidationFailed.one("checklist_id", "The selected checklist id is invalid.")
    steps = list(
        session.scalars(
            select(Step).where(Step.checklist_id == checklist.id).order_by(Step.position, Step.id)
        )
    )
    fields = list(
        session.scalars(
            select(FormField)
            .where(FormField.checklist_id == checklist.id)
            .order_by(FormField.position, FormField.id)
        )
    )
    kickoff = {f.id: spec_of(f) for f in fields if f.step_id is None}
    values, errors = _check_launch(uow, caller, request, kickoff, steps, strict)
    held, problems = file_values.resolve(
        uow, caller.org_id, kickoff, values, "prerun", [("Checklist", checklist.id)]
    )
    errors |= {key: found for key, found in problems.items() if key not in errors}
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    run = Run(
        org_id=caller.org_id,
        increment_id=organizations.next_sequence(uow, caller.org_id, "run_seq"),
        checklist_id=checklist.id,
        checklist_title=checklist.title,
        name=request.get("name") or f"{checklist.title} - {now:%Y-%m-%d %H:%M}",
        summary=request.get("summary", checklist.summary),
        type=checklist.type,
        owner_id=request.get("owner_id", caller.user_id),
        started_by=caller.user_id,
        parent_id=request.get("parent_id"),
        starred=request.get("starred", False),
        is_public=request.get("is_public", False),
        prevent_guest_comment=request.get("prevent_guest_comment", False),
        prerun_completed_at=now,
        prerun_completed_by=caller.user_id,
        created_at=now,
        started_at=now,
        last_updated=now,
    )
    session.add(run)
    session.flush()
    file_values.attach(held, run.id)
    tasks = _create_tasks(uow, caller, run, steps, request.get("tasks") or {}, now)
    _copy_fields(uow, run, fields, tasks, values, now)
    for tag_id in request.get("tags") or []:
        session.add(TagLink(tag_id=tag_id, run_id=run.id))
    for folder_id in request.get("folders") or []:
        session.add(FolderLink(folder_id=folder_id, run_id=run.id))
    for position, user_id in enumerate(request.get("users") or []):
        session.add(RunMember(run_id=run.id, user_id=user_id, position=position))
    for position, group_id in enumerate(request.get("groups") or []):
        session.add(RunGroup(run_id=run.id, group_id=group_id, position=position))
    activity.record(uow, caller, "created", "run", run.id, run_id=run.id, new=run.name)
    events.emit(uow, run.org_id, EventType.PROCESS_LAUNCHED, run_id=run.id, actor_id=caller.user_id)
    actor = automations.actor_of_member(caller.org_id, caller.user_id)
    automations.evaluate(uow, actor, run.id, launch=True)
    session.flush()
    return run_repo.bundle(session, run)


def _check_launch(
    uow: UnitOfWork,
    caller: Caller,
    request: Mapping[str, Any],
    kickoff: Mapping[str, FieldSpec],
    steps: Sequence[Step],
    strict: bool,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    org = caller.org_id
    errors: dict[str, list[str]] = {}
    if "owner_id" in request:
        errors |= references.check_owner(uow, org, request["owner_id"])
    errors |= references.check_tags(uow, org, request.get("tags") or [])
    errors |= references.check_folders(uow, org, request.get("folders") or [])
    errors |= references.check_users(uow, org, request.get("users") or [])
    errors |= references.check_groups(uow, org, request.get("groups") or [])
    if request.get("parent_id") and run_repo.get(uow.session, org, request["parent_id"]) is None:
        errors["parent_id"] = ["The selected parent process is invalid."]
    prerun = request.get("prerun") or {}
    values, problems, unknown = validate_values(kickoff, prerun, "prerun")
    errors |= problems
    if strict:
        errors |= {f"prerun.{k}": ["No such kick-off field on this template."] for k in unknown}
    errors |= {
        k: v for k, v in missing_required(kickoff, values, "prerun").items() if k not in errors
    }
    step_ids = {s.id for s in steps}
    for step_id, override in (request.get("tasks") or {}).items():
        if step_id not in step_ids:
            errors[f"tasks.{step_id}"] = ["No such step in this template."]
            continue
        errors |= _check_override(uow, caller, step_id, override)
    return values, errors


def _check_override(
    uow: UnitOfWork, caller: Caller, step_id: str, override: Any
) -> dict[str, list[str]]:
    """A task's deadline and owners as sent at launch, checked as a task update checks them
    (owners that are members, guests' valid e-mails, groups of the organization)."""
    errors: dict[str, list[str]] = {}
    if override.deadline:
        try:
            parse_ts(override.deadline)
        except ValueError:
            errors[f"tasks.{step_id}.deadline"] = ["The deadline is not a valid date."]
    if override.owners:
        problems = task_owners.check_owners(uow, caller, override.owners)
        errors |= {f"tasks.{step_id}.{path}": found for path, found in problems.items()}
    return errors


def _create_tasks(
    uow: UnitOfWork,
    caller: Caller,
    run: Run,
    steps: Sequence[Step],
    overrides: Mapping[str, Any],
    now: datetime,
) -> dict[str, Task]:
    tasks: dict[str, Task] = {}
    for step in steps:
        override = overrides.get(step.id)
        deadline = apply_rule(step.deadline, now)
        if override is not None and override.deadline:
            deadline = parse_ts(override.deadline)
        task = Task(
            org_id=run.org_id,
            run_id=run.id,
            step_id=step.id,
            increment_id=organizations.next_sequence(uow, run.org_id, "task_seq"),
            title=step.title,
            alias=step.alias,
            summary=step.summary,
            task_type=step.step_type,
            position=override.position
            if override is not None and override.position
            else step.position,
            deadline=deadline,
            max_assignable=step.max_assignable,
            prevent_guest_comment=bool(step.flags.get("prevent_guest_comment", False)),
            flags=step_settings(step),
            created_at=now,
            last_updated=now,
        )
        uow.session.add(task)
        tasks[step.id] = task
    uow.session.flush()
    assignments = [
        _assign(uow, tasks[step.id], step, overrides.get(step.id), caller.user_id) for step in steps
    ]
    mail_events.assigned(uow, run.org_id, assignments, run_id=run.id, actor_id=caller.user_id)
    return tasks


def step_settings(step: Step) -> dict[str, Any]:
    """What a task shows of its step's settings, as they were at launch (like its title)."""
    flags = step.flags or {}
    settings: dict[str, Any] = {key: True for key in INHERITED_FLAGS if flags.get(key)}
    if step.webhook:
        settings["webhook"] = step.webhook
    return settings


def _assign(
    uow: UnitOfWork, task: Task, step: Step, override: Any, launcher: int
) -> mail_events.Assignment:
    owners = override.owners if override is not None and override.owners else None
    if owners is not None:
        users, guests, groups = task_owners.owner_lists(owners)
    else:
        users, guests, groups = step.assignees, step.guests, step.groups
        if not (users or guests or groups) and step.assign_run_starter:
            users = [launcher]
    for user_id in dict.fromkeys(users):
        uow.session.add(TaskOwner(task_id=task.id, user_id=user_id))
    for email in dict.fromkeys(guests):
        uow.session.add(TaskOwner(task_id=task.id, guest_email=email))
    for group_id in dict.fromkeys(groups):
        uow.session.add(TaskOwner(task_id=task.id, group_id=group_id))
    return (
        task.id,
        list(dict.fromkeys(users)),
        list(dict.fromkeys(groups)),
        list(dict.fromkeys(guests)),
    )


def _copy_fields(
    uow: UnitOfWork,
    run: Run,
    fields: Sequence[FormField],
    tasks: Mapping[str, Task],
    values: Mapping[str, Any],
    now: datetime,
) -> None:
    for field in fields:
        task = tasks.get(field.step_id) if field.step_id else None
        if field.step_id and task is None:
            continue
        uow.session.add(
            RunField(
                run_id=run.id,
                field_id=field.id,
                task_id=task.id if task else None,
                field_type=field.field_type,
                label=field.label,
                alias=field.alias,
                guidance=field.guidance,
                position=field.position,
                required=field.required,
                options=field.options,
                columns=field.columns,
                value=values.get(field.id),
                last_updated=now,
            )
        )
