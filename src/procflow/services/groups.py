"""Use cases on groups: named sets of members and guests that tasks and runs can name.

Every member reads groups; admins and standard members manage them (light members read).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy import exc as sa_exc

from procflow.domain import permissions
from procflow.domain.permissions import Caller
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.errors import NotFound, PermissionDenied, ValidationFailed
from procflow.services import activity, references
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Group, GroupMember
from procflow.storage.repositories import groups as repo
from procflow.storage.repositories import locks, run_versions

NAME_MAX = 200
DESCRIPTION_MAX = 10_000
LOGO_MAX = 2048
NAME_TAKEN = "The name has already been taken."


@dataclass(frozen=True)
class GroupView:
    group: Group
    members: list[int] = field(default_factory=list)
    guests: list[str] = field(default_factory=list)


def _views(uow: UnitOfWork, groups: Sequence[Group]) -> list[GroupView]:
    people = repo.people_of(uow.session, [g.id for g in groups])
    return [GroupView(g, *people[g.id]) for g in groups]


def _load(uow: UnitOfWork, caller: Caller, group_id: str) -> Group:
    group = repo.get(uow.session, caller.org_id, group_id)
    if group is None:
        raise NotFound("Group")
    return group


def _ensure_manager(caller: Caller, action: str) -> None:
    if not permissions.can_manage_catalog(caller):
        raise PermissionDenied(f"You don't have permission to {action}.")


def list_groups(
    uow: UnitOfWork, caller: Caller, *, offset: int, limit: int | None
) -> tuple[list[GroupView], int]:
    groups, total = repo.page(uow.session, caller.org_id, offset, limit)
    return _views(uow, groups), total


def get_group(uow: UnitOfWork, caller: Caller, group_id: str) -> GroupView:
    return _views(uow, [_load(uow, caller, group_id)])[0]


def create_group(uow: UnitOfWork, caller: Caller, body: Mapping[str, Any]) -> GroupView:
    """A new group; `members` are user ids of the org, `guests` emails of its guests."""
    _ensure_manager(caller, "create groups")
    guest_ids = _check(uow, caller, body, None)
    now = utcnow()
    group = Group(
        org_id=caller.org_id,
        name=body["name"].strip(),
        description=body.get("description"),
        logo=body.get("logo"),
        created_at=now,
        last_updated=now,
    )
    uow.session.add(group)
    _flush_name(uow)
    _write_people(uow, group.id, body.get("members") or [], list(guest_ids.values()))
    activity.record(uow, caller, "created", "group", group.id, new=group.name)
    uow.session.flush()
    return get_group(uow, caller, group.id)


def update_group(
    uow: UnitOfWork, caller: Caller, group_id: str, patch: Mapping[str, Any]
) -> GroupView:
    """A partial update: only keys sent change; `members` and `guests` replace the lists."""
    _load(uow, caller, group_id)
    _ensure_manager(caller, "edit groups")
    group = locks.lock_group(uow.session, group_id)  # one rewrite of its people at a time
    if group is None:
        raise NotFound("Group")
    _check(uow, caller, patch, group.id)
    current = get_group(uow, caller, group.id)
    changes: list[tuple[str, Any, Any]] = []
    for key in ("name", "description", "logo"):
        if key in patch:
            value = patch[key].strip() if key == "name" else patch[key]
            if getattr(group, key) != value:
                changes.append((key, getattr(group, key), value))
                setattr(group, key, value)
    _flush_name(uow)
    members = list(dict.fromkeys(patch.get("members", current.members)))
    guests = list(dict.fromkeys(_emails(patch.get("guests", current.guests))))
    if members != current.members:
        changes.append(("members", current.members, members))
    if guests != [g.lower() for g in current.guests]:
        changes.append(("guests", current.guests, guests))
    if any(key in ("members", "guests") for key, _, _ in changes):
        uow.session.execute(delete(GroupMember).where(GroupMember.group_id == group.id))
        uow.session.flush()
        known = repo.guest_ids(uow.session, caller.org_id, guests)
        _write_people(uow, group.id, members, [known[e] for e in guests])
    if changes:
        bump(group, now=utcnow())
        activity.record_changes(uow, caller, "group", group.id, changes)
    uow.session.flush()
    return get_group(uow, caller, group.id)


def delete_group(uow: UnitOfWork, caller: Caller, group_id: str) -> None:
    group = _load(uow, caller, group_id)
    _ensure_manager(caller, "delete groups")
    activity.record(uow, caller, "deleted", "group", group.id, old=group.name)
    run_versions.bump_grouped(uow.session, group.id)
    uow.session.delete(group)
    uow.session.flush()


def _check(
    uow: UnitOfWork, caller: Caller, body: Mapping[str, Any], group_id: str | None
) -> dict[str, int]:
    """Validate the whole body; return the guest id of every listed guest email."""
    errors: dict[str, list[str]] = {}
    if "name" in body or group_id is None:
        name = (body.get("name") or "").strip()
        if not name or len(name) > NAME_MAX:
            errors["name"] = [f"The name must be 1 to {NAME_MAX} characters."]
        elif repo.name_taken(uow.session, caller.org_id, name, group_id):
            errors["name"] = [NAME_TAKEN]
    if len(body.get("description") or "") > DESCRIPTION_MAX:
        errors["description"] = [f"The description may not exceed {DESCRIPTION_MAX} characters."]
    if len(body.get("logo") or "") > LOGO_MAX:
        errors["logo"] = [f"The logo may not exceed {LOGO_MAX} characters."]
    if body.get("members"):
        errors |= references.check_users(uow, caller.org_id, body["members"], "members")
    emails = _emails(body.get("guests") or [])
    known = repo.guest_ids(uow.session, caller.org_id, emails)
    seen: set[str] = set()
    for index, email in enumerate(emails):
        if email not in known:
            errors[f"guests.{index}"] = [f"{email} is not a guest of this organization."]
        elif email in seen:
            errors[f"guests.{index}"] = [f"The guest {email} is listed twice."]
        seen.add(email)
    if errors:
        raise ValidationFailed(errors)
    return {email: known[email] for email in emails}


def _flush_name(uow: UnitOfWork) -> None:
    """Flush; a name that a concurrent request took first (the unique index on the
    folded name refused it) is refused as the check would have."""
    try:
        uow.session.flush()
    except sa_exc.IntegrityError as error:
        raise ValidationFailed.one("name", NAME_TAKEN) from error


def _emails(values: Sequence[str]) -> list[str]:
    return [value.strip().lower() for value in values]


def _write_people(
    uow: UnitOfWork, group_id: str, user_ids: Sequence[int], guest_ids: Sequence[int]
) -> None:
    for user_id in user_ids:
        uow.session.add(GroupMember(group_id=group_id, user_id=user_id))
    for guest_id in guest_ids:
        uow.session.add(GroupMember(group_id=group_id, guest_id=guest_id))
