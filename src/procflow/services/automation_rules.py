"""A template's automation rules (Tallyfy: automated actions): create, replace, delete.

Editing rules is editing the template: it needs a role that manages the catalog and holds
the template's row until commit. A rule is checked against its own template (a condition
or action naming a step or field of another template is a 422 on that field) and against
the organization (assigned members and groups must be its own). Running processes use
the template's current rules from their next evaluation on.
"""

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from procflow.domain import automation_rules as shape
from procflow.domain.ids import new_id
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

MAX_RULES = shape.MAX_RULES


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


def import_rules(
    uow: UnitOfWork,
    caller: Caller,
    checklist: Checklist,
    bodies: Sequence[Mapping[str, Any]],
    ids: Mapping[str, str],
) -> None:
    """The rules of a template document (an export's `automated_actions`) on the new
    template made from it: the steps and fields they name are re-pointed at their copies
    (`ids`, old id to new). A rule that names what the document does not hold is refused,
    as any rule is, under `automated_actions.N.`; one refusal refuses the template."""
    scope = repo.scope(uow.session, checklist.id)
    errors: dict[str, list[str]] = {}
    kept = []
    for index, body in enumerate(bodies):
        stored, problems = _problems(uow, caller, scope, repointed(body, ids))
        errors |= {f"automated_actions.{index}.{key}": found for key, found in problems.items()}
        kept.append(stored)
    if errors:
        raise ValidationFailed(errors)
    _add(uow, checklist.id, kept)


def copy_rules(uow: UnitOfWork, source_id: str, target_id: str, ids: Mapping[str, str]) -> None:
    """A template copy's rules: the source's, naming the copy's steps and fields. They
    are not checked again: the copy holds what the source held (a rule that names a step
    deleted since keeps naming it, and the engine skips it, as in the source)."""
    rules = repo.rules_of(uow.session, [source_id])[source_id]
    _add(uow, target_id, [_renewed(repointed(_stored(rule), ids)) for rule in rules])


def _stored(rule: AutomatedAction) -> dict[str, Any]:
    return {
        "automated_alias": rule.automated_alias,
        "condition_logic": rule.condition_logic,
        "conditions": rule.conditions,
        "then_actions": rule.then_actions,
    }


def repointed(body: Mapping[str, Any], ids: Mapping[str, str]) -> dict[str, Any]:
    """`body` with the step and field ids it names mapped by `ids` (others kept), and
    without its conditions' and actions' own ids: they belong to the other template."""

    def moved(item: Any, key: str) -> Any:
        if not isinstance(item, Mapping):
            return item
        found = {name: value for name, value in item.items() if name != "id"}
        if isinstance(found.get(key), str):
            found[key] = ids.get(found[key], found[key])
        return found

    result = dict(body)
    for name, key in (("conditions", "conditionable_id"), ("then_actions", "target_step_id")):
        if isinstance(body.get(name), list):
            result[name] = [moved(item, key) for item in body[name]]
    return result


def _renewed(stored: dict[str, Any]) -> dict[str, Any]:
    for name in ("conditions", "then_actions"):
        stored[name] = [{"id": new_id(), **item} for item in stored[name]]
    return stored


def _add(uow: UnitOfWork, checklist_id: str, rules: Sequence[Mapping[str, Any]]) -> None:
    """Rules are listed by creation time: a millisecond apart, they keep their order."""
    start = utcnow()
    for index, stored in enumerate(rules):
        now = start + timedelta(milliseconds=index)
        uow.session.add(
            AutomatedAction(checklist_id=checklist_id, created_at=now, last_updated=now, **stored)
        )
    uow.session.flush()


def _checked(
    uow: UnitOfWork, caller: Caller, checklist: Checklist, body: Mapping[str, Any]
) -> dict[str, Any]:
    stored, errors = _problems(uow, caller, repo.scope(uow.session, checklist.id), body)
    if errors:
        raise ValidationFailed(errors)
    return stored


def _problems(
    uow: UnitOfWork, caller: Caller, scope: shape.Scope, body: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
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
    return stored, errors
