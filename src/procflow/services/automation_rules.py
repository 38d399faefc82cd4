"""A template's automation rules (Tallyfy: automated actions): create, replace, delete.

Editing rules is editing the template: it needs a role that manages the catalog and holds
the template's row until commit. A rule is checked against its own template (a condition
or action naming a step or field of another template is a 422 on that field) and against
the organization (assigned members and groups must be its own). Running processes use
the template's current rules from their next evaluation on.
"""

from collections.abc import Mapping
from typing import Any

from procflow.domain import automation_rules as shape
from procflow.domain.permissions import Caller
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.errors import NotFound, ValidationFailed
from procflow.services import activity, references
from procflow.services import template_fields as base
from procflow.services.unit_of_work import UnitOfWork
from procflow.services.webhook_urls import url_error
from procflow.storage.models import AutomatedAction, Checklist
from procflow.storage.repositories import automations as repo

MAX_RULES = 200


def create_rule(
    uow: UnitOfWork, caller: Caller, checklist_id: str, body: Mapping[str, Any]
) -> AutomatedAction:
    checklist = base.load_checklist(uow, caller, checklist_id, write=True)
    stored = _checked(uow, caller, checklist, body)
    if repo.count(uow.session, checklist.id) >= MAX_RULES:
        raise ValidationFailed.one("conditions", f"A template holds at most {MAX_RULES} rules.")
    now = utcnow()
    rule = AutomatedAction(checklist_id=checklist.id, created_at=now, last_updated=now, **stored)
    uow.session.add(rule)
    uow.session.flush()
    _touch(checklist)
    activity.record(
        uow, caller, "created", "automation", rule.id, new=rule.automated_alias or rule.id
    )
    return rule


def update_rule(
    uow: UnitOfWork, caller: Caller, checklist_id: str, rule_id: str, body: Mapping[str, Any]
) -> AutomatedAction:
    """Replace a rule's alias, conditions and actions (api-v2 wants all of them)."""
    checklist = base.load_checklist(uow, caller, checklist_id, write=True)
    rule = _load(uow, checklist, rule_id)
    stored = _checked(uow, caller, checklist, body)
    for name, value in stored.items():
        setattr(rule, name, value)
    rule.last_updated = utcnow()
    _touch(checklist)
    activity.record(
        uow, caller, "updated", "automation", rule.id, new=rule.automated_alias or rule.id
    )
    return rule


def delete_rule(uow: UnitOfWork, caller: Caller, checklist_id: str, rule_id: str) -> None:
    checklist = base.load_checklist(uow, caller, checklist_id, write=True)
    rule = _load(uow, checklist, rule_id)
    uow.session.delete(rule)
    _touch(checklist)
    activity.record(
        uow, caller, "deleted", "automation", rule_id, old=rule.automated_alias or rule_id
    )


def _load(uow: UnitOfWork, checklist: Checklist, rule_id: str) -> AutomatedAction:
    rule = uow.session.get(AutomatedAction, rule_id) if isinstance(rule_id, str) else None
    if rule is None or rule.checklist_id != checklist.id:
        raise NotFound("Automation")
    return rule


def _touch(checklist: Checklist) -> None:
    bump(checklist, now=utcnow())


def _checked(
    uow: UnitOfWork, caller: Caller, checklist: Checklist, body: Mapping[str, Any]
) -> dict[str, Any]:
    scope = repo.scope(uow.session, checklist.id)

    def webhook_error(url: str) -> str | None:
        found = url_error(url, "webhook", uow.allow_private_webhooks).get("webhook")
        return found[0] if found else None

    stored, errors = shape.check(body, scope, webhook_error)
    for index, action in enumerate(stored["then_actions"]):
        people = action.get("assignees")
        if not people:
            continue
        where = f"then_actions.{index}.assignees"
        errors |= {
            f"{where}.{k}": v
            for k, v in references.check_users(uow, caller.org_id, people["users"]).items()
        }
        errors |= {
            f"{where}.{k}": v
            for k, v in references.check_groups(uow, caller.org_id, people["groups"]).items()
        }
    if errors:
        raise ValidationFailed(errors)
    return stored
