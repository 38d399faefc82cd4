"""Templates (Tallyfy: checklists): list, read, create, update, archive, restore, delete.

Every member may read templates; changing them needs a role that manages the catalog.
Each writer checks the whole request, kick-off fields included, before it writes anything.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from procflow.domain.ids import new_id
from procflow.domain.permissions import Caller
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.errors import PermissionDenied, ValidationFailed
from procflow.services import (
    activity,
    automation_rules,
    file_values,
    organizations,
    references,
    steps,
    template_import,
)
from procflow.services import template_fields as base
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Checklist
from procflow.storage.repositories import checklists as repo
from procflow.storage.repositories import run_versions
from procflow.storage.repositories.checklists import TemplateBundle
from procflow.storage.repositories.checklists import TemplateFilter as TemplateFilter

TYPES = ("procedure", "form", "document")
SORTS = tuple(repo.SORTS)
COLUMNS = (
    "title",
    "type",
    "summary",
    "guidance",
    "webhook",
    "owner_id",
    "folder_id",
    "kickoff_title",
    "kickoff_description",
    "is_public",
    "is_public_kickoff",
    "starred",
    "auto_naming",
    "default_process_name_format",
    "users",
    "groups",
)


@dataclass(frozen=True)
class View:
    """Which `?with=` relations a caller asked to see."""

    steps: bool = False
    tags: bool = False
    folder: bool = False


def _bundle(uow: UnitOfWork, checklist: Checklist, view: View) -> TemplateBundle:
    return repo.bundle(uow.session, checklist, steps=view.steps, tags=view.tags, folder=view.folder)


def list_templates(
    uow: UnitOfWork,
    caller: Caller,
    flt: TemplateFilter,
    *,
    offset: int,
    limit: int | None,
    view: View = View(),
) -> tuple[list[TemplateBundle], int]:
    """One page of the organization's templates (archived ones only when asked for)."""
    if flt.sort not in repo.SORTS:
        raise ValidationFailed.one("sort_by", f"sort_by must be one of {', '.join(repo.SORTS)}.")
    if flt.type is not None and flt.type not in TYPES:
        raise ValidationFailed.one("type", f"type must be one of {', '.join(TYPES)}.")
    checklists, total = repo.search(uow.session, caller.org_id, flt, offset, limit)
    found = repo.bundles(
        uow.session, checklists, steps=view.steps, tags=view.tags, folder=view.folder
    )
    return found, total


def get_template(
    uow: UnitOfWork, caller: Caller, checklist_id: str, view: View = View()
) -> TemplateBundle:
    """Any member may read any template of the organization."""
    return _bundle(uow, base.load_checklist(uow, caller, checklist_id), view)


def form_fields(uow: UnitOfWork, caller: Caller, checklist_id: str) -> TemplateBundle:
    """The template's kick-off fields and every step's captures."""
    return get_template(uow, caller, checklist_id, View(steps=True))


def create_template(
    uow: UnitOfWork, caller: Caller, data: Mapping[str, Any], view: View = View()
) -> TemplateBundle:
    """A new template owned by the caller unless `owner_id` says otherwise.

    Kick-off field ids in the body are ignored: every field of a new template is new.
    """
    base.require_manager(caller)
    checklist_id = new_id()
    errors = _check(uow, caller, data)
    fresh = [{k: v for k, v in item.items() if k != "id"} for item in data.get("prerun") or []]
    plan = base.plan_kickoff(uow, checklist_id, fresh)
    if errors or plan.errors:
        raise ValidationFailed(errors | plan.errors)
    now = utcnow()
    columns = {"owner_id": caller.user_id} | {key: data[key] for key in COLUMNS if key in data}
    checklist = Checklist(
        id=checklist_id,
        org_id=caller.org_id,
        increment_id=organizations.next_sequence(uow, caller.org_id, "checklist_seq"),
        created_by=caller.user_id,
        created_at=now,
        last_updated=now,
        **columns,
    )
    uow.session.add(checklist)
    uow.session.flush()
    base.apply_kickoff(uow, checklist.id, plan, now)
    ids = _kickoff_ids(uow, checklist.id, data.get("prerun") or [], plan)
    if data.get("steps"):
        ids |= template_import.add_steps(uow, checklist, data["steps"], now)
    if data.get("automated_actions"):
        automation_rules.import_rules(uow, caller, checklist, data["automated_actions"], ids)
    activity.record(uow, caller, "created", "checklist", checklist.id, new=checklist.title)
    return _bundle(uow, checklist, view)


def _kickoff_ids(
    uow: UnitOfWork, checklist_id: str, items: Sequence[Mapping[str, Any]], plan: base.KickoffPlan
) -> dict[str, str]:
    """The new kick-off fields' ids by the ids the document gave them."""
    by_alias = {f.alias: f.id for f in repo.kickoff_of(uow.session, checklist_id)}
    return {
        item["id"]: by_alias[plan.aliases[index]]
        for index, item in enumerate(items)
        if isinstance(item.get("id"), str) and plan.aliases.get(index) in by_alias
    }


def update_template(
    uow: UnitOfWork,
    caller: Caller,
    checklist_id: str,
    patch: Mapping[str, Any],
    view: View = View(),
) -> TemplateBundle:
    """Partial update; `prerun`, `users` and `groups` replace; a missing title is kept."""
    checklist = base.load_checklist(uow, caller, checklist_id, write=True)
    errors = _check(uow, caller, patch)
    plan = base.plan_kickoff(uow, checklist.id, patch["prerun"]) if "prerun" in patch else None
    if errors or (plan and plan.errors):
        raise ValidationFailed(errors | (plan.errors if plan else {}))
    now = utcnow()
    before = activity.snapshot(checklist, [key for key in COLUMNS if key in patch])
    for key in before:
        if getattr(checklist, key) != patch[key]:
            setattr(checklist, key, patch[key])
    changes = activity.changes_of(before, checklist)
    if plan is not None:
        old_form = _kickoff_summary(uow, checklist.id)
        if base.apply_kickoff(uow, checklist.id, plan, now):
            uow.session.flush()
            changes.append(("prerun", old_form, _kickoff_summary(uow, checklist.id)))
    if changes:
        bump(checklist, now=now)
        activity.record_changes(uow, caller, "checklist", checklist.id, changes)
        uow.session.flush()
    return _bundle(uow, checklist, view)


def _kickoff_summary(uow: UnitOfWork, checklist_id: str) -> list[dict[str, Any]]:
    """The kick-off form in brief, as the old and new value of a `prerun` change."""
    return [
        {"id": f.id, "label": f.label, "field_type": f.field_type, "required": f.required}
        for f in repo.kickoff_of(uow.session, checklist_id)
    ]


def publish_template(uow: UnitOfWork, caller: Caller, checklist_id: str) -> TemplateBundle:
    """Templates have no draft state here: every saved edit is live, so this only checks."""
    return _bundle(uow, base.load_checklist(uow, caller, checklist_id, write=True), View())


def clone_template(
    uow: UnitOfWork,
    caller: Caller,
    checklist_id: str,
    *,
    title: str | None = None,
    tenant: str | None = None,
) -> TemplateBundle:
    """A copy of a template with its kick-off form, steps, captures and automation rules,
    under new ids."""
    source = base.load_checklist(uow, caller, checklist_id, write=True)
    if tenant is not None and tenant != caller.org_id:
        raise ValidationFailed.one(
            "tenant", "Templates can only be copied within the same organization."
        )
    now = utcnow()
    columns = {key: getattr(source, key) for key in COLUMNS}
    columns |= {"title": title or source.title, "owner_id": caller.user_id}
    copy = Checklist(
        org_id=caller.org_id,
        created_by=caller.user_id,
        created_at=now,
        last_updated=now,
        increment_id=organizations.next_sequence(uow, caller.org_id, "checklist_seq"),
        **columns,
    )
    uow.session.add(copy)
    uow.session.flush()
    ids = steps.copy_steps(uow, source.id, copy.id, now)
    for kickoff_field in repo.kickoff_of(uow.session, source.id):
        copied = base.copy_field(kickoff_field, copy.id, None, kickoff_field.alias, now)
        uow.session.add(copied)
        ids[kickoff_field.id] = copied.id
    automation_rules.copy_rules(uow, source.id, copy.id, ids)
    activity.record(
        uow,
        caller,
        "created",
        "checklist",
        copy.id,
        new=copy.title,
        description=f"Copied from template {source.id}",
    )
    uow.session.flush()
    return _bundle(uow, copy, View())


def archive_template(uow: UnitOfWork, caller: Caller, checklist_id: str) -> TemplateBundle:
    """Hide a template from lists and launches; archiving twice changes nothing."""
    checklist = base.load_checklist(uow, caller, checklist_id, write=True)
    if checklist.archived_at is None:
        now = utcnow()
        checklist.archived_at = now
        bump(checklist, now=now)
        activity.record(uow, caller, "archived", "checklist", checklist.id)
        uow.session.flush()
    return _bundle(uow, checklist, View())


def activate_template(uow: UnitOfWork, caller: Caller, checklist_id: str) -> TemplateBundle:
    """Bring an archived template back; restoring an active one changes nothing."""
    checklist = base.load_checklist(uow, caller, checklist_id, write=True)
    if checklist.archived_at is not None:
        checklist.archived_at = None
        bump(checklist, now=utcnow())
        activity.record(uow, caller, "unarchived", "checklist", checklist.id)
        uow.session.flush()
    return _bundle(uow, checklist, View())


def delete_template(uow: UnitOfWork, caller: Caller, checklist_id: str) -> None:
    """Delete an archived template for good; its processes keep running without it."""
    checklist = base.load_checklist(uow, caller, checklist_id, write=True)
    if not caller.is_admin:
        raise PermissionDenied("Only administrators can delete a template permanently.")
    if checklist.archived_at is None:
        raise ValidationFailed.one(
            "checklist", "Archive the template before deleting it permanently."
        )
    activity.record(uow, caller, "deleted", "checklist", checklist.id, old=checklist.title)
    run_versions.bump_of_template(uow.session, checklist.id)
    file_values.discard_template_files(uow, checklist.id)
    uow.session.delete(checklist)
    uow.session.flush()


def _check(uow: UnitOfWork, caller: Caller, data: Mapping[str, Any]) -> dict[str, list[str]]:
    org = caller.org_id
    errors: dict[str, list[str]] = {}
    if "owner_id" in data:
        errors |= references.check_owner(uow, org, data["owner_id"])
    if data.get("folder_id") is not None and not repo.folder_in_org(
        uow.session, org, data["folder_id"]
    ):
        errors["folder_id"] = ["The selected folder id is invalid."]
    if "users" in data:
        errors |= references.check_users(uow, org, data["users"])
    if data.get("groups"):
        errors |= references.check_groups(uow, org, data["groups"])
    errors |= base.url_error(data.get("webhook"), "webhook", uow.allow_private_webhooks)
    return errors
