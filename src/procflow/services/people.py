"""Reading the caller's own person, memberships and organizations."""

from sqlalchemy import select

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
