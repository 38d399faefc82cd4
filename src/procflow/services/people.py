"""Reading members and organizations."""

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


def organizations_of(uow: UnitOfWork, user_id: int) -> list[Organization]:
    return list(
        uow.session.scalars(
            select(Organization)
            .join(Membership, Membership.org_id == Organization.id)
            .where(Membership.user_id == user_id, Membership.disabled_at.is_(None))
            .order_by(Organization.created_at)
        )
    )
