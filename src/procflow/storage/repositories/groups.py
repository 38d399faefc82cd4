"""Reading groups, their members and guests, and the groups named on runs."""

from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from procflow.domain.names import fold
from procflow.storage.models import Group, GroupMember, Guest


def get(session: Session, org_id: str, group_id: str) -> Group | None:
    group = session.get(Group, group_id)
    return group if group is not None and group.org_id == org_id else None


def page(session: Session, org_id: str, offset: int, limit: int | None) -> tuple[list[Group], int]:
    query = select(Group).where(Group.org_id == org_id)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(query.order_by(Group.name, Group.id).offset(offset).limit(limit))
    return list(rows), total


def name_taken(session: Session, org_id: str, name: str, except_id: str | None) -> bool:
    """Whether another group of the organization has this name, ignoring case (`fold`)."""
    query = select(Group.id).where(Group.org_id == org_id, Group.name_key == fold(name))
    if except_id is not None:
        query = query.where(Group.id != except_id)
    return session.scalar(query.limit(1)) is not None


def people_of(session: Session, group_ids: Sequence[str]) -> dict[str, tuple[list[int], list[str]]]:
    """Each group's member user ids and guest emails, in the order they were added."""
    people: dict[str, tuple[list[int], list[str]]] = {gid: ([], []) for gid in group_ids}
    if not group_ids:
        return people
    rows = session.execute(
        select(GroupMember.group_id, GroupMember.user_id, Guest.email)
        .outerjoin(Guest, Guest.id == GroupMember.guest_id)
        .where(GroupMember.group_id.in_(group_ids))
        .order_by(GroupMember.id)
    )
    for group_id, user_id, email in rows:
        users, guests = people[group_id]
        if user_id is not None:
            users.append(user_id)
        elif email is not None:
            guests.append(email)
    return people


def guest_ids(session: Session, org_id: str, emails: Collection[str]) -> dict[str, int]:
    """Guest id by (lower-case) email, for those of `emails` that are guests of the org."""
    if not emails:
        return {}
    rows = session.execute(
        select(Guest.email, Guest.id).where(
            Guest.org_id == org_id, func.lower(Guest.email).in_([e.lower() for e in emails])
        )
    )
    return {email.lower(): guest_id for email, guest_id in rows}


def existing_ids(session: Session, org_id: str, ids: Collection[str]) -> set[str]:
    if not ids:
        return set()
    return set(session.scalars(select(Group.id).where(Group.org_id == org_id, Group.id.in_(ids))))
