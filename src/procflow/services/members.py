"""Use cases on the members of an organization: list, invite, edit a profile, change role,
disable, enable.

Every member reads the member list and edits their own profile; only admins change the
rest. An organization always keeps at least one active admin, and nobody disables
themselves.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from procflow.domain.permissions import Caller, Role
from procflow.domain.timeutil import utcnow
from procflow.domain.timezones import is_known_timezone
from procflow.errors import NotFound, PermissionDenied, ValidationFailed
from procflow.services import activity, organizations
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Membership, User
from procflow.storage.repositories import locks

NAME_MAX = 100
PROFILE_KEYS = ("first_name", "last_name", "timezone")
MAX_USER_ID = 2**31 - 1


@dataclass(frozen=True)
class MemberView:
    user: User
    membership: Membership


def ensure_admin(caller: Caller, action: str) -> None:
    if not caller.is_admin:
        raise PermissionDenied(f"Only administrators can {action}.")


def find_membership(uow: UnitOfWork, caller: Caller, user_id: int) -> Membership:
    if user_id > MAX_USER_ID:
        raise NotFound("User")
    membership = uow.session.scalar(
        select(Membership).where(Membership.org_id == caller.org_id, Membership.user_id == user_id)
    )
    if membership is None:
        raise NotFound("User")
    return membership


def has_membership(uow: UnitOfWork, org_id: str, user_id: int) -> bool:
    """Whether the person is a member of the organization, active or disabled."""
    query = select(Membership.id).where(Membership.org_id == org_id, Membership.user_id == user_id)
    return uow.session.scalar(query) is not None


def view(uow: UnitOfWork, membership: Membership) -> MemberView:
    return MemberView(uow.session.get_one(User, membership.user_id), membership)


def list_members(
    uow: UnitOfWork, caller: Caller, *, offset: int, limit: int | None
) -> tuple[list[MemberView], int]:
    query = (
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == caller.org_id)
    )
    total = int(uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = uow.session.execute(query.order_by(User.id).offset(offset).limit(limit))
    return [MemberView(user, membership) for user, membership in rows], total


def get_member(uow: UnitOfWork, caller: Caller, user_id: int) -> MemberView:
    return view(uow, find_membership(uow, caller, user_id))


def invite(uow: UnitOfWork, caller: Caller, body: Mapping[str, Any]) -> MemberView:
    """Add a person by email (creating the user if needed) with a role, light by default.

    The answer is the same whether or not the e-mail already belongs to someone in another
    organization: the new membership's profile comes from the invitation alone.
    """
    ensure_admin(caller, "invite members")
    locks.lock_organization(uow.session, caller.org_id)  # one invitation of an email at once
    errors: dict[str, list[str]] = {}
    for key in ("first_name", "last_name"):
        if len(body.get(key) or "") > NAME_MAX:
            errors[key] = [f"The {key} may not exceed {NAME_MAX} characters."]
    email = body["email"].strip().lower()
    existing = uow.session.scalar(select(User).where(User.email == email))
    if existing is not None and organizations.member_ids(uow, caller.org_id, {existing.id}):
        errors["email"] = ["This person is already a member of the organization."]
    elif existing is not None and uow.session.scalar(
        select(Membership.id).where(
            Membership.org_id == caller.org_id, Membership.user_id == existing.id
        )
    ):
        errors["email"] = ["This member is disabled; enable them instead."]
    if "@" not in email or len(email) > 254:
        errors["email"] = ["The email must be a valid email address."]
    if errors:
        raise ValidationFailed(errors)
    role = Role(body.get("role") or Role.LIGHT.value)
    user = existing or organizations.new_user(uow, email)
    membership = organizations.join(
        uow,
        caller.org_id,
        user,
        role,
        first_name=body.get("first_name"),
        last_name=body.get("last_name"),
    )
    activity.record(uow, caller, "invited", "member", str(user.id), new=role.value)
    return MemberView(user, membership)


def update_profile(
    uow: UnitOfWork, caller: Caller, user_id: int, body: Mapping[str, Any]
) -> MemberView:
    """Change a member's names or time zone: their own, or anyone's for an admin.

    The profile is this organization's (the membership's): other organizations the person
    belongs to keep theirs. The change is recorded in this one's activity trail. Only the
    keys sent change.
    """
    membership = find_membership(uow, caller, user_id)
    if user_id != caller.user_id:
        ensure_admin(caller, "edit other members")
    errors: dict[str, list[str]] = {}
    values = {key: body[key] for key in PROFILE_KEYS if key in body}
    for key, value in values.items():
        if value is None:
            errors[key] = [f"The {key} may not be null."]
    for key in ("first_name", "last_name"):
        if isinstance(values.get(key), str) and len(values[key].strip()) > NAME_MAX:
            errors[key] = [f"The {key} may not exceed {NAME_MAX} characters."]
        elif isinstance(values.get(key), str):
            values[key] = values[key].strip()
    zone = values.get("timezone")
    if isinstance(zone, str) and not is_known_timezone(zone):
        errors["timezone"] = ["The timezone must be an IANA time zone name, such as Europe/Paris."]
    if errors:
        raise ValidationFailed(errors)
    changes = [
        (k, getattr(membership, k), v) for k, v in values.items() if getattr(membership, k) != v
    ]
    if changes:
        for key, _, value in changes:
            setattr(membership, key, value)
        activity.record_changes(uow, caller, "member", str(user_id), changes)
        uow.session.flush()
    return view(uow, membership)


def set_role(uow: UnitOfWork, caller: Caller, user_id: int, role: str) -> MemberView:
    """Change a member's role; the last active admin keeps theirs."""
    ensure_admin(caller, "change roles")
    locks.lock_organization(uow.session, caller.org_id)
    membership = find_membership(uow, caller, user_id)
    if membership.role == role:
        return view(uow, membership)
    organizations.keep_an_active_admin(uow, membership, "role")
    activity.record_changes(uow, caller, "member", str(user_id), [("role", membership.role, role)])
    membership.role = role
    uow.session.flush()
    return view(uow, membership)


def disable(uow: UnitOfWork, caller: Caller, user_id: int) -> MemberView:
    """Suspend a member: their token no longer opens this organization."""
    ensure_admin(caller, "disable members")
    locks.lock_organization(uow.session, caller.org_id)
    membership = find_membership(uow, caller, user_id)
    if user_id == caller.user_id:
        raise ValidationFailed.one("user", "You cannot disable yourself.")
    if membership.disabled_at is None:
        organizations.keep_an_active_admin(uow, membership, "user")
        membership.disabled_at = utcnow()
        activity.record(uow, caller, "disabled", "member", str(user_id))
        uow.session.flush()
    return view(uow, membership)


def enable(uow: UnitOfWork, caller: Caller, user_id: int) -> MemberView:
    ensure_admin(caller, "enable members")
    membership = find_membership(uow, caller, user_id)
    if membership.disabled_at is not None:
        membership.disabled_at = None
        activity.record(uow, caller, "enabled", "member", str(user_id))
        uow.session.flush()
    return view(uow, membership)


def approve(uow: UnitOfWork, caller: Caller, user_id: int) -> MemberView:
    """Tallyfy approves members who asked to join; procflow's are approved when invited,
    so this only checks the caller's right and answers the member unchanged."""
    ensure_admin(caller, "approve members")
    return view(uow, find_membership(uow, caller, user_id))
