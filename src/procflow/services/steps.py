"""Steps of a template: list, read, create, update, reorder, clone and delete.

Positions stay a dense 1..n sequence. A new step is appended (api-v2 ignores `position`
on create); `PUT` with a position, or the reorder route, moves a step.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete

from procflow.domain.deadlines import rule_error
from procflow.domain.emails import is_email
from procflow.domain.permissions import Caller
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.errors import ValidationFailed
from procflow.services import activity, references
from procflow.services import template_fields as base
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Checklist, FormField, Step
from procflow.storage.repositories import checklists as repo
from procflow.storage.repositories import run_versions

StepView = tuple[Step, list[FormField]]
Errors = dict[str, list[str]]
FLAGS = (
    "prevent_guest_comment",
    "skip_start_process",
    "can_complete_only_assignees",
    "everyone_must_complete",
    "allow_guest_owners",
    "is_soft_start_date",
    "role_changes_every_time",
    "top_secret",
    "send_chromeless",
)
COLUMNS = (
    "title",
    "summary",
    "step_type",
    "assignees",
    "guests",
    "groups",
    "deadline",
    "start_date",
    "webhook",
    "max_assignable",
    "assign_run_starter",
)
START_RUN = "start_run"


def list_steps(
    uow: UnitOfWork, caller: Caller, checklist_id: str, *, offset: int, limit: int | None
) -> tuple[list[StepView], int]:
    """One page of a template's steps in order, each with its captures."""
    checklist = base.load_checklist(uow, caller, checklist_id)
    steps, total = repo.steps_page(uow.session, checklist.id, offset, limit)
    captures = repo.captures_of(uow.session, [s.id for s in steps])
    return [(step, captures[step.id]) for step in steps], total


def get_step(uow: UnitOfWork, caller: Caller, checklist_id: str, step_id: str) -> StepView:
    """A step of the given template only: a step id under another template is not found."""
    _checklist, step = base.load_step(uow, caller, checklist_id, step_id)
    return _view(uow, step)


def create_step(
    uow: UnitOfWork, caller: Caller, checklist_id: str, data: Mapping[str, Any]
) -> StepView:
    """A new step, appended after the last one."""
    checklist = base.load_checklist(uow, caller, checklist_id, write=True)
    values, errors = check_values(uow, checklist, None, data)
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    taken = repo.step_aliases(uow.session, checklist.id)
    step = Step(
        checklist_id=checklist.id,
        alias=base.unique_alias(base.slug(values["title"], "step"), taken),
        created_at=now,
        last_updated=now,
    )
    apply_values(step, values)
    siblings = repo.steps_of(uow.session, checklist.id)
    uow.session.add(step)
    base.arrange(siblings, step, None)
    bump(checklist, now=now)
    uow.session.flush()
    activity.record(uow, caller, "created", "step", step.id, new=step.title)
    return step, []


def update_step(
    uow: UnitOfWork, caller: Caller, checklist_id: str, step_id: str, patch: Mapping[str, Any]
) -> StepView:
    """Partial update: keys present change; assignees, guests and groups replace."""
    checklist, step = base.load_step(uow, caller, checklist_id, step_id, write=True)
    values, errors = check_values(uow, checklist, step, patch)
    if errors:
        raise ValidationFailed(errors)
    before = activity.snapshot(step, [*values, *(["position"] if "position" in patch else [])])
    apply_values(step, values)
    if "position" in patch and patch["position"] != step.position:
        base.arrange(repo.steps_of(uow.session, checklist.id), step, patch["position"])
    changes = activity.changes_of(before, step)
    if changes:
        bump(step, checklist, now=utcnow())
        activity.record_changes(uow, caller, "step", step.id, changes)
    return _view(uow, step)


def reorder_step(
    uow: UnitOfWork, caller: Caller, checklist_id: str, step_id: str, position: int
) -> StepView:
    """Move a step to `position`; the others close up around it."""
    checklist, step = base.load_step(uow, caller, checklist_id, step_id, write=True)
    if step.position != position:
        old = step.position
        base.arrange(repo.steps_of(uow.session, checklist.id), step, position)
        bump(step, checklist, now=utcnow())
        activity.record_changes(
            uow, caller, "step", step.id, [("position", old, step.position)], verb="re-ordered"
        )
    return _view(uow, step)


def clone_step(uow: UnitOfWork, caller: Caller, checklist_id: str, step_id: str) -> StepView:
    """A copy of a step and its captures, placed right after the original."""
    checklist, original = base.load_step(uow, caller, checklist_id, step_id, write=True)
    now = utcnow()
    step_aliases = repo.step_aliases(uow.session, checklist.id)
    copy = Step(
        checklist_id=checklist.id,
        alias=base.unique_alias(original.alias, step_aliases),
        flags=dict(original.flags or {}),
        created_at=now,
        last_updated=now,
        **{key: getattr(original, key) for key in COLUMNS},
    )
    siblings = repo.steps_of(uow.session, checklist.id)
    uow.session.add(copy)
    base.arrange(siblings, copy, [s.id for s in siblings].index(original.id) + 2)
    uow.session.flush()
    field_aliases = repo.field_aliases(uow.session, checklist.id)
    copies = [
        base.copy_field(f, checklist.id, copy.id, base.unique_alias(f.alias, field_aliases), now)
        for f in repo.captures_of(uow.session, [original.id])[original.id]
    ]
    uow.session.add_all(copies)
    bump(checklist, now=now)
    activity.record(
        uow,
        caller,
        "created",
        "step",
        copy.id,
        new=copy.title,
        description=f"Copied from step {original.id}",
    )
    uow.session.flush()
    return copy, copies


def copy_steps(uow: UnitOfWork, source_id: str, target_id: str, now: datetime) -> dict[str, str]:
    """Copy every step and capture of one template into another (for template copies);
    returns the copies' ids by the originals' (for the rules that name them).

    Deadlines counted from a copied step point at that step's copy.
    """
    originals = repo.steps_of(uow.session, source_id)
    copies = {
        s.id: Step(
            checklist_id=target_id,
            alias=s.alias,
            position=s.position,
            flags=dict(s.flags or {}),
            created_at=now,
            last_updated=now,
            **{key: getattr(s, key) for key in COLUMNS},
        )
        for s in originals
    }
    uow.session.add_all(copies.values())
    uow.session.flush()
    for copy in copies.values():
        rule = copy.deadline
        if isinstance(rule, dict) and rule.get("step") in copies:
            copy.deadline = {**rule, "step": copies[rule["step"]].id}
    ids = {original: copy.id for original, copy in copies.items()}
    captures = repo.captures_of(uow.session, [s.id for s in originals])
    for original_id, fields in captures.items():
        for original in fields:
            field = base.copy_field(
                original, target_id, copies[original_id].id, original.alias, now
            )
            uow.session.add(field)
            ids[original.id] = field.id
    return ids


def delete_step(uow: UnitOfWork, caller: Caller, checklist_id: str, step_id: str) -> None:
    """Remove a step and its captures; deadlines counted from it now count from launch."""
    checklist, step = base.load_step(uow, caller, checklist_id, step_id, write=True)
    uow.session.execute(delete(FormField).where(FormField.step_id == step.id))
    remaining = [s for s in repo.steps_of(uow.session, checklist.id) if s.id != step.id]
    activity.record(uow, caller, "deleted", "step", step.id, old=step.title)
    run_versions.bump_of_step(uow.session, step.id)
    uow.session.delete(step)
    now = utcnow()
    for other in remaining:
        rule = other.deadline
        if isinstance(rule, dict) and rule.get("step") == step.id:
            other.deadline = {**rule, "step": START_RUN}
            other.last_updated = now
    base.arrange(remaining, None, None)
    bump(checklist, now=now)
    uow.session.flush()


def _view(uow: UnitOfWork, step: Step) -> StepView:
    return step, repo.captures_of(uow.session, [step.id])[step.id]


def apply_values(step: Step, values: Mapping[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(step, key) != value:
            setattr(step, key, value)
            changed = True
    return changed


def check_values(
    uow: UnitOfWork, checklist: Checklist, step: Step | None, data: Mapping[str, Any]
) -> tuple[dict[str, Any], Errors]:
    """Validated column values for a new step (full input) or an existing one (partial)."""
    errors: Errors = {}
    values = {key: data[key] for key in COLUMNS if key in data}
    if "assignees" in data:
        errors |= references.check_users(
            uow, checklist.org_id, data["assignees"], field="assignees"
        )
    if "guests" in data:
        values["guests"], problems = _guests(data["guests"])
        errors |= problems
    if data.get("groups"):
        errors |= references.check_groups(uow, checklist.org_id, data["groups"])
    for key in ("deadline", "start_date"):
        if data.get(key) is not None:
            values[key], problems = checked_rule(uow, checklist, step, key, data[key])
            errors |= problems
    errors |= base.url_error(data.get("webhook"), "webhook", uow.allow_private_webhooks)
    current = dict(step.flags or {}) if step is not None else {}
    flags = {
        key: data[key] for key in FLAGS if key in data and data[key] != current.get(key, False)
    }
    if flags:
        values["flags"] = current | flags
    return values, errors


def _guests(emails: list[str]) -> tuple[list[str], Errors]:
    clean = [email.strip().lower() for email in emails]
    errors: Errors = {}
    for index, email in enumerate(clean):
        if not is_email(email):
            errors[f"guests.{index}"] = ["The guest must be a valid email address."]
        elif email in clean[:index]:
            errors[f"guests.{index}"] = [f"The guest {email} is listed twice."]
    return clean, errors


def checked_rule(
    uow: UnitOfWork, checklist: Checklist, step: Step | None, key: str, rule: Mapping[str, Any]
) -> tuple[dict[str, Any], Errors]:
    """A deadline or start-date rule, checked and filled in with its defaults."""
    problem = rule_error(rule)
    if problem:
        return {}, {key: [problem.replace("deadline", key)]}
    clean: dict[str, Any] = {"value": rule["value"], "unit": rule.get("unit", "days")}
    if key == "start_date":
        return clean, {}
    option, anchor = rule.get("option", "from"), rule.get("step", START_RUN)
    if not isinstance(option, str) or not 0 < len(option) <= 32:
        return {}, {f"{key}.option": ["The deadline option must be a short text like 'from'."]}
    is_self = step is not None and anchor == step.id
    if anchor != START_RUN and (
        not isinstance(anchor, str)
        or is_self
        or repo.get_step(uow.session, checklist.id, anchor) is None
    ):
        return {}, {
            f"{key}.step": [
                "The deadline step must be 'start_run' or another step of this template."
            ]
        }
    return clean | {"option": option, "step": anchor}, {}
