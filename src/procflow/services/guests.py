"""Guests: outsiders who work on tasks by email, and the tokens that let them in.

A guest token reaches only the tasks that name the guest as an owner, and their comments;
it is stored as a SHA-256 digest, like a member's token.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc

from procflow.domain import permissions
from procflow.domain.emails import is_email
from procflow.domain.ids import int_id
from procflow.domain.permissions import Caller
from procflow.domain.timeutil import format_ts, utcnow
from procflow.domain.versioning import bump
from procflow.errors import NotFound, PermissionDenied, Unauthenticated, ValidationFailed
from procflow.services import activity, mail_events
from procflow.services.auth import hash_token
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Guest, GuestToken, Task, TaskOwner
from procflow.storage.repositories import guests as repo
from procflow.storage.repositories import run_versions

TOKEN_PREFIX = "pg"
EMAIL_TAKEN = "The email has already been taken."
NAME_MAX = 100
DETAIL_MAX = 2000
WRITABLE_DETAILS = (
    "phone_1",
    "phone_2",
    "timezone",
    "image_url",
    "contact_url",
    "company_url",
    "opportunity_url",
    "company_name",
    "opportunity_name",
    "external_sync_source",
    "external_date_creation",
    "cadence_days",
    "associated_members",
)


@dataclass(frozen=True)
class GuestCaller:
    """A guest acting inside its organization through its own token."""

    guest_id: int
    email: str
    org_id: str


def normalize_email(raw: str) -> str:
    return raw.strip().lower()


def guest_for_token(uow: UnitOfWork, token: str, org_id: str) -> GuestCaller:
    """The guest a token speaks for; 401 if it names no live guest, 403 in another org."""
    guest = repo.by_token(uow.session, hash_token(token))
    if guest is None or guest.disabled_at is not None:
        raise Unauthenticated()
    if guest.org_id != org_id:
        raise PermissionDenied("You don't have permission to access this organization.")
    return GuestCaller(guest_id=guest.id, email=guest.email, org_id=org_id)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def get_guest(uow: UnitOfWork, caller: Caller, email: str) -> Guest:
    guest = repo.by_email(uow.session, caller.org_id, normalize_email(email))
    if guest is None:
        raise NotFound("Guest")
    return guest


def list_guests(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int | None
) -> tuple[list[Guest], int]:
    return repo.page(uow.session, caller.org_id, offset, limit)


def create_guest(uow: UnitOfWork, caller: Caller, data: Mapping[str, Any]) -> Guest:
    """Add a guest; its email is unique in the organization and is not a member's."""
    _require(permissions.can_manage_catalog(caller), "You don't have permission to add guests.")
    email = normalize_email(data["email"])
    errors = _check_email(email) or _check_taken(uow, caller.org_id, email)
    values, problems = _check_profile(data, {})
    errors |= problems
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    guest = Guest(
        org_id=caller.org_id,
        email=email,
        first_name=values.get("first_name", ""),
        last_name=values.get("last_name", ""),
        details=values.get("details", {}),
        created_at=now,
        last_updated=now,
    )
    uow.session.add(guest)
    try:
        uow.session.flush()
    except sa_exc.IntegrityError as error:  # a concurrent request added the email first
        raise ValidationFailed.one("email", EMAIL_TAKEN) from error
    activity.record(uow, caller, "created", "guest", str(guest.id), new=email)
    return guest


def update_guest(uow: UnitOfWork, caller: Caller, email: str, data: Mapping[str, Any]) -> Guest:
    """Change names and details; only the keys sent change (details merge key by key)."""
    _require(permissions.can_manage_catalog(caller), "You don't have permission to edit guests.")
    guest = get_guest(uow, caller, email)
    values, errors = _check_profile(data, guest.details or {})
    if errors:
        raise ValidationFailed(errors)
    changes = [
        (key, getattr(guest, key), value)
        for key, value in values.items()
        if getattr(guest, key) != value
    ]
    for key, _, value in changes:
        setattr(guest, key, value)
    if changes:
        bump(guest, now=utcnow())
        activity.record_changes(uow, caller, "guest", str(guest.id), changes)
    uow.session.flush()
    return guest


def delete_guest(uow: UnitOfWork, caller: Caller, email: str) -> Guest:
    """Remove a guest for good (its tokens go with it; task assignments by email stay);
    the guest as it was, which Tallyfy's answer shows."""
    _require(caller.is_admin, "Only administrators may delete guests.")
    guest = get_guest(uow, caller, email)
    activity.record(uow, caller, "deleted", "guest", str(guest.id), old=guest.email)
    run_versions.bump_commented_by_guest(uow.session, guest.id, utcnow())
    uow.session.delete(guest)
    uow.session.flush()
    return guest


def set_disabled(uow: UnitOfWork, caller: Caller, email: str, disabled: bool) -> Guest:
    """Disable (its tokens stop working) or re-enable a guest; repeating changes nothing."""
    _require(caller.is_admin, "Only administrators may disable or enable guests.")
    guest = get_guest(uow, caller, email)
    if (guest.disabled_at is not None) == disabled:
        return guest
    now = utcnow()
    details = dict(guest.details or {})
    if disabled:
        guest.disabled_at = now
        details |= {"disabled_at": format_ts(now), "disabled_by": caller.user_id}
    else:
        guest.disabled_at = None
        details |= {"reactivated_at": format_ts(now), "reactivated_by": caller.user_id}
    guest.details = details
    bump(guest, now=now)
    verb = "disabled" if disabled else "enabled"
    activity.record(uow, caller, verb, "guest", str(guest.id))
    uow.session.flush()
    return guest


def issue_token(uow: UnitOfWork, caller: Caller, email: str) -> str:
    """A new token for the guest; the clear text exists only in the return value."""
    _require(permissions.can_manage_catalog(caller), "You don't have permission to invite guests.")
    guest = get_guest(uow, caller, email)
    if guest.disabled_at is not None:
        raise ValidationFailed.one("email", "The guest is disabled.")
    token = mint_token(uow, guest.id)
    activity.record(uow, caller, "invited", "guest", str(guest.id))
    mail_events.guest_invited(uow, caller.org_id, guest.id, caller.user_id)
    uow.session.flush()
    return token


def mint_token(uow: UnitOfWork, guest_id: int) -> str:
    """A new token for a guest: its digest is stored, the clear text only returned."""
    token = TOKEN_PREFIX + secrets.token_hex(32)
    uow.session.add(GuestToken(guest_id=guest_id, token_hash=hash_token(token)))
    return token


TaskPage = tuple[list[Task], dict[str, list[TaskOwner]], int]
STATUS_FILTERS: dict[str, bool | None] = {
    "all": None,
    "active": False,
    "incomplete": False,
    "complete": True,
    "completed": True,
}


def assigned_tasks(uow: UnitOfWork, guest: GuestCaller, offset: int, limit: int | None) -> TaskPage:
    """The calling guest's own tasks (of live processes), with their owners."""
    tasks, total = repo.assigned_tasks(uow.session, guest.org_id, guest.email, offset, limit)
    return tasks, repo.owners_of(uow.session, [t.id for t in tasks]), total


def tasks_of_guest(
    uow: UnitOfWork, caller: Caller, key: str, offset: int, limit: int | None, status: str
) -> TaskPage:
    """A guest's tasks as a member sees them; `key` is the guest's email or its id."""
    _require(
        permissions.can_manage_catalog(caller), "You don't have permission to read guests' tasks."
    )
    guest_id = int_id(key)
    guest = repo.by_id(uow.session, caller.org_id, guest_id) if guest_id else None
    guest = guest or get_guest(uow, caller, key)
    if status not in STATUS_FILTERS:
        raise ValidationFailed.one(
            "status", f"The status must be one of: {', '.join(STATUS_FILTERS)}."
        )
    tasks, total = repo.assigned_tasks(
        uow.session, caller.org_id, guest.email, offset, limit, STATUS_FILTERS[status]
    )
    return tasks, repo.owners_of(uow.session, [t.id for t in tasks]), total


def _check_email(email: str) -> dict[str, list[str]]:
    if not is_email(email):
        return {"email": ["The email must be a valid email address."]}
    return {}


def _check_taken(uow: UnitOfWork, org_id: str, email: str) -> dict[str, list[str]]:
    if repo.by_email(uow.session, org_id, email) is not None:
        return {"email": [EMAIL_TAKEN]}
    if repo.is_member_email(uow.session, org_id, email):
        return {"email": ["The email belongs to a member of this organization."]}
    return {}


def _check_profile(
    data: Mapping[str, Any], current_details: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key in ("first_name", "last_name"):
        if key in data:
            text = (data[key] or "").strip()
            if len(text) > NAME_MAX:
                errors[key] = [f"The {key} may not be greater than {NAME_MAX} characters."]
            values[key] = text
    sent = {**(data.get("details") or {}), **_flat_details(data)}
    if sent:
        details = dict(current_details)
        for key in WRITABLE_DETAILS:
            if key not in sent:
                continue
            value = sent[key]
            if not _plain(value):
                errors[f"details.{key}"] = ["The value must be a string, a number or null."]
            details[key] = value
        values["details"] = details
    return values, errors


def _flat_details(data: Mapping[str, Any]) -> dict[str, Any]:
    """Tallyfy's SDK sends `phone` and `company_name` beside the names, not in details."""
    flat = {"phone_1": data["phone"]} if data.get("phone") is not None else {}
    if data.get("company_name") is not None:
        flat["company_name"] = data["company_name"]
    return flat


def _plain(value: Any) -> bool:
    if isinstance(value, list):
        return len(value) <= 100 and all(_plain(v) and not isinstance(v, list) for v in value)
    if isinstance(value, str):
        return len(value) <= DETAIL_MAX
    return value is None or isinstance(value, int | float | bool)
