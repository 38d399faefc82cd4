"""Watchers: subscriptions to an object's events, as n8n's Tallyfy trigger makes them.

A webhook watcher on the organization receives every event of it; one on a template, a
process or a task receives that object's events. Webhook watchers are an
administrator's to add (their deliveries carry whole runs); a member may add e-mail
watchers for themselves. Members see and remove their own watchers, administrators all.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from procflow.domain.ids import int_id
from procflow.domain.permissions import Caller
from procflow.domain.timeutil import utcnow
from procflow.errors import NotFound, PermissionDenied, ValidationFailed
from procflow.services import organizations
from procflow.services.unit_of_work import UnitOfWork
from procflow.services.webhook_urls import url_error
from procflow.storage.models import Checklist, Run, Task
from procflow.storage.models import Watcher as Watcher

OBJECT_TYPES = ("organization", "checklist", "run", "task")
NOTIFICATION_TYPES = ("webhook", "email")
FREQUENCIES = ("electric", "daily", "weekly")
MAX_WATCHERS = 100


def list_watchers(
    uow: UnitOfWork, caller: Caller, notification: str | None = None
) -> list[Watcher]:
    query = select(Watcher).where(Watcher.org_id == caller.org_id)
    if notification:
        query = query.where(Watcher.notification_type == notification)
    if not caller.is_admin:
        query = query.where(Watcher.user_id == caller.user_id)
    return list(uow.session.scalars(query.order_by(Watcher.id)))


def add_watcher(uow: UnitOfWork, caller: Caller, member: int, data: Mapping[str, Any]) -> Watcher:
    if not organizations.member_ids(uow, caller.org_id, {member}):
        raise NotFound("User")
    kind = data.get("notification_type") or "email"
    if not caller.is_admin and (kind == "webhook" or member != caller.user_id):
        raise PermissionDenied(
            "Only an administrator can add webhook watchers or watchers for someone else."
        )
    errors = _check(uow, caller, data, kind)
    if errors:
        raise ValidationFailed(errors)
    webhook = data.get("webhook") if kind == "webhook" else None
    object_type = data.get("object_type") or "organization"
    object_id = data.get("object_id") or caller.org_id
    existing = uow.session.scalar(
        select(Watcher).where(
            Watcher.org_id == caller.org_id,
            Watcher.user_id == member,
            Watcher.object_type == object_type,
            Watcher.object_id == object_id,
            Watcher.notification_type == kind,
            Watcher.webhook.is_(None) if webhook is None else Watcher.webhook == webhook,
        )
    )
    if existing is not None:
        return existing  # subscribing twice to the same thing is one subscription
    watcher = Watcher(
        org_id=caller.org_id,
        user_id=member,
        object_type=object_type,
        object_id=object_id,
        notification_type=kind,
        frequency=data.get("frequency") or "electric",
        webhook=webhook,
        created_at=utcnow(),
    )
    uow.session.add(watcher)
    uow.session.flush()
    return watcher


def remove_watcher(uow: UnitOfWork, caller: Caller, watcher_id: str) -> Watcher:
    number = int_id(watcher_id)
    watcher = uow.session.get(Watcher, number) if number is not None else None
    if watcher is None or watcher.org_id != caller.org_id:
        raise NotFound("Watcher")
    if not caller.is_admin and watcher.user_id != caller.user_id:
        raise PermissionDenied("Only an administrator can remove someone else's watcher.")
    uow.session.delete(watcher)
    uow.session.flush()
    return watcher


def _check(
    uow: UnitOfWork, caller: Caller, data: Mapping[str, Any], kind: str
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if kind not in NOTIFICATION_TYPES:
        errors["notification_type"] = [f"Must be one of: {', '.join(NOTIFICATION_TYPES)}."]
    frequency = data.get("frequency") or "electric"
    if frequency not in FREQUENCIES:
        errors["frequency"] = [f"Must be one of: {', '.join(FREQUENCIES)}."]
    object_type = data.get("object_type") or "organization"
    if object_type not in OBJECT_TYPES:
        errors["object_type"] = [f"Must be one of: {', '.join(OBJECT_TYPES)}."]
    elif not _object_exists(uow, caller.org_id, object_type, data.get("object_id")):
        errors["object_id"] = ["The selected object id is invalid."]
    if kind == "webhook":
        if not data.get("webhook"):
            errors["webhook"] = ["The webhook field is required for webhook watchers."]
        else:
            errors |= url_error(data["webhook"], "webhook", uow.allow_private_webhooks)
    count = len(list_watchers(uow, caller)) if not errors else 0
    if count >= MAX_WATCHERS:
        errors["watcher"] = [f"An organization may have at most {MAX_WATCHERS} watchers."]
    return errors


def _object_exists(uow: UnitOfWork, org_id: str, object_type: str, object_id: Any) -> bool:
    if object_id is None or object_type == "organization":
        return object_id in (None, org_id)
    if not isinstance(object_id, str):
        return False
    found: Checklist | Run | Task | None
    if object_type == "checklist":
        found = uow.session.get(Checklist, object_id)
    elif object_type == "run":
        found = uow.session.get(Run, object_id)
    else:
        found = uow.session.get(Task, object_id)
    return found is not None and found.org_id == org_id
