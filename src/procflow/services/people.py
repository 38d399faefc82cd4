"""Reading the caller's own person, memberships and organizations."""

from dataclasses import dataclass

from sqlalchemy import func, select

from procflow.errors import NotFound
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Membership, Organization, User


def get_user(uow: UnitOfWork, user_id: int) -> User:
    user = uow.session.get(User, user_id)
    if user is None:
        raise NotFound("User")
    return user


def get_organization(uow: UnitOfWork, org_id: str) -> Organization:
    org = uow.session.get(Organization, org_id)
    if org is None:
        raise NotFound("Organization")
    return org


def membership_in(uow: UnitOfWork, user_id: int, org_id: str) -> Membership:
    membership = uow.session.scalar(
        select(Membership).where(Membership.org_id == org_id, Membership.user_id == user_id)
    )
    if membership is None:
        raise NotFound("User")
    return membership


def home_membership(uow: UnitOfWork, user_id: int) -> Membership | None:
    """The person's oldest active membership (the first organization `organizations_of`
    lists): the profile `GET /me`, which names no organization, shows. Joining another
    organization later never changes it, so no inviting organization can."""
    return uow.session.scalar(
        select(Membership)
        .where(Membership.user_id == user_id, Membership.disabled_at.is_(None))
        .order_by(Membership.id)
        .limit(1)
    )


def organizations_of(uow: UnitOfWork, user_id: int) -> list[Organization]:
    """The organizations where the person is an active member, in the order they joined."""
    return list(
        uow.session.scalars(
            select(Organization)
            .join(Membership, Membership.org_id == Organization.id)
            .where(Membership.user_id == user_id, Membership.disabled_at.is_(None))
            .order_by(Membership.id)
        )
    )


@dataclass(frozen=True)
class OrganizationView:
    """An organization as one of its members sees it: with its head count and their role."""

    organization: Organization
    users_count: int
    user_role: str


def organization_views(
    uow: UnitOfWork, user_id: int, org_id: str | None = None
) -> list[OrganizationView]:
    """The organizations where the person is an active member (or just `org_id`), in the
    order they joined, each with its active members counted (one query for all)."""
    query = (
        select(Organization, Membership.role)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Membership.user_id == user_id, Membership.disabled_at.is_(None))
        .order_by(Membership.id)
    )
    if org_id is not None:
        query = query.where(Organization.id == org_id)
    rows = list(uow.session.execute(query))
    counts = _active_members(uow, [org.id for org, _role in rows])
    return [OrganizationView(org, counts.get(org.id, 0), role) for org, role in rows]


def _active_members(uow: UnitOfWork, org_ids: list[str]) -> dict[str, int]:
    if not org_ids:
        return {}
    rows = uow.session.execute(
        select(Membership.org_id, func.count())
        .where(Membership.org_id.in_(org_ids), Membership.disabled_at.is_(None))
        .group_by(Membership.org_id)
    )
    return {org_id: int(count) for org_id, count in rows}
