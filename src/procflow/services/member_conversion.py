"""Turning a member into a guest and a guest into a member, as Tallyfy's
`PUT /users/{id}/to/guest` and `POST /guests/{email}/to/member` do.

Tallyfy documents the first: the person stops being a member at once (their seat frees,
they leave every group, they lose member rights) and works from then on only through guest
links; their open tasks stay theirs, now held as a guest by e-mail; the last administrator
cannot be converted. The second is its mirror: the guest becomes a `light` member and
their open tasks, template step assignments and groups follow them.
Both keep completed tasks, comments and the activity trail as they were.
"""

from typing import Any

from sqlalchemy import delete, select

from procflow.domain.permissions import Caller, Role
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.errors import ValidationFailed
from procflow.services import activity, guests, members, organizations
from procflow.services.member_removal import move_task_owners, open_tasks_held
from procflow.services.members import MemberView
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Checklist, Group, GroupMember, Guest, Step, TaskOwner, User
from procflow.storage.repositories import guests as guest_repo
from procflow.storage.repositories import locks, run_versions


def member_to_guest(uow: UnitOfWork, caller: Caller, user_id: int) -> Guest:
    """Make a member of the caller's organization a guest of it (administrators only).

    Refused (422, nothing changed): converting oneself, or the last active administrator.
    """
    members.ensure_admin(caller, "convert members")
    locks.lock_organization(uow.session, caller.org_id)
    membership = members.find_membership(uow, caller, user_id)
    if user_id == caller.user_id:
        raise ValidationFailed.one("user", "You cannot convert yourself to a guest.")
    organizations.keep_an_active_admin(uow, membership, "user")
    email = uow.session.get_one(User, user_id).email
    guest = guest_repo.by_email(uow.session, caller.org_id, email)
    now = utcnow()
    if guest is None:
        guest = Guest(
            org_id=caller.org_id,
            email=email,
            first_name=membership.first_name,
            last_name=membership.last_name,
            details={},
            created_at=now,
            last_updated=now,
        )
        uow.session.add(guest)
        uow.session.flush()
    elif guest.disabled_at is not None:
        guest.disabled_at = None
        bump(guest, now=now)
    tasks = open_tasks_held(uow, caller.org_id, TaskOwner.user_id == user_id)
    move_task_owners(uow, caller, tasks, lambda row: row.user_id == user_id, to_guest=email)
    for step in _steps(uow, caller.org_id):
        if user_id in (step.assignees or []):
            _move_step(uow, caller, step, drop_user=user_id, add_guest=email)
    _leave_groups(uow, caller, GroupMember.user_id == user_id)
    uow.session.delete(membership)
    activity.record(uow, caller, "converted", "member", str(user_id), old="member", new="guest")
    uow.session.flush()
    return guest


def guest_to_member(uow: UnitOfWork, caller: Caller, email: str) -> MemberView:
    """Make a guest of the caller's organization a `light` member of it (administrators
    only; Tallyfy's clients send no body, and invitations are light by default); the
    guest, and its tokens, are gone after."""
    members.ensure_admin(caller, "convert guests")
    locks.lock_organization(uow.session, caller.org_id)
    guest = guests.get_guest(uow, caller, email)
    user = uow.session.scalar(select(User).where(User.email == guest.email))
    if user is not None and members.has_membership(uow, caller.org_id, user.id):
        raise ValidationFailed.one("email", "This person is already a member of the organization.")
    if user is None:
        user = organizations.new_user(uow, guest.email)
    tasks = open_tasks_held(uow, caller.org_id, TaskOwner.guest_email == guest.email)
    move_task_owners(
        uow, caller, tasks, lambda row: row.guest_email == guest.email, to_user=user.id
    )
    for step in _steps(uow, caller.org_id):
        if guest.email in (step.guests or []):
            _move_step(uow, caller, step, drop_guest=guest.email, add_user=user.id)
    grouped = list(uow.session.scalars(select(GroupMember).where(GroupMember.guest_id == guest.id)))
    for row in grouped:
        row.guest_id, row.user_id = None, user.id
    membership = organizations.join(
        uow,
        caller.org_id,
        user,
        Role.LIGHT,
        first_name=guest.first_name or None,
        last_name=guest.last_name or None,
    )
    run_versions.bump_commented_by_guest(uow.session, guest.id, utcnow())
    activity.record(uow, caller, "converted", "guest", str(guest.id), old="guest", new=str(user.id))
    uow.session.delete(guest)
    uow.session.flush()
    return MemberView(user, membership)


def _steps(uow: UnitOfWork, org_id: str) -> list[Step]:
    query = select(Step).join(Checklist, Checklist.id == Step.checklist_id)
    return list(uow.session.scalars(query.where(Checklist.org_id == org_id)))


def _move_step(
    uow: UnitOfWork,
    caller: Caller,
    step: Step,
    *,
    drop_user: int | None = None,
    add_user: int | None = None,
    drop_guest: str | None = None,
    add_guest: str | None = None,
) -> None:
    """A template step assigns the person under their new kind (member id or e-mail)."""
    before = {"assignees": list(step.assignees or []), "guests": list(step.guests or [])}
    users = [u for u in before["assignees"] if u != drop_user]
    emails = [g for g in before["guests"] if g != drop_guest]
    users += [add_user] if add_user is not None and add_user not in users else []
    emails += [add_guest] if add_guest is not None and add_guest not in emails else []
    step.assignees, step.guests = users, emails
    bump(step, now=utcnow())
    changes = [
        ("assignees", before["assignees"], users),
        ("guests", before["guests"], emails),
    ]
    activity.record_changes(uow, caller, "step", step.id, [c for c in changes if c[1] != c[2]])


def _leave_groups(uow: UnitOfWork, caller: Caller, which: Any) -> None:
    """Take the person out of every group of the organization that lists them."""
    in_org = select(Group.id).where(Group.org_id == caller.org_id)
    rows = list(
        uow.session.scalars(select(GroupMember).where(which, GroupMember.group_id.in_(in_org)))
    )
    for row in rows:
        activity.record(
            uow, caller, "updated", "group", row.group_id, field="members", old=row.user_id
        )
    if rows:
        uow.session.execute(delete(GroupMember).where(GroupMember.id.in_([r.id for r in rows])))
