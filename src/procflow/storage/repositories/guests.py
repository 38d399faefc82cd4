"""Reading guests, their tokens and the tasks assigned to them."""

from collections.abc import Sequence

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from procflow.domain.runs import DONE
from procflow.storage.models import Guest, GuestToken, Membership, Run, Task, TaskOwner, User


def by_email(session: Session, org_id: str, email: str) -> Guest | None:
    return session.scalar(select(Guest).where(Guest.org_id == org_id, Guest.email == email))


def page(session: Session, org_id: str, offset: int, limit: int | None) -> tuple[list[Guest], int]:
    total = session.scalar(select(func.count()).where(Guest.org_id == org_id)) or 0
    query = select(Guest).where(Guest.org_id == org_id).order_by(Guest.email).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), total


def by_id(session: Session, org_id: str, guest_id: int) -> Guest | None:
    guest = session.get(Guest, guest_id)
    return guest if guest is not None and guest.org_id == org_id else None


def is_member_email(session: Session, org_id: str, email: str) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    func.lower(User.email) == email,
                    Membership.user_id == User.id,
                    Membership.org_id == org_id,
                )
            )
        )
    )


def by_token(session: Session, digest: str) -> Guest | None:
    """The guest a live token belongs to (revoked tokens name nobody)."""
    return session.scalar(
        select(Guest)
        .join(GuestToken, GuestToken.guest_id == Guest.id)
        .where(GuestToken.token_hash == digest, GuestToken.revoked_at.is_(None))
    )


def _assigned(org_id: str, email: str) -> Select[Task]:
    """Live tasks of live runs (or one-off tasks) that name `email` as an owner."""
    return (
        select(Task)
        .outerjoin(Run, Run.id == Task.run_id)
        .where(
            Task.org_id == org_id,
            Task.archived_at.is_(None),
            Run.archived_at.is_(None),
            exists().where(
                TaskOwner.task_id == Task.id, func.lower(TaskOwner.guest_email) == email
            ),
        )
    )


def assigned_task(session: Session, org_id: str, email: str, task_id: str) -> Task | None:
    return session.scalar(_assigned(org_id, email).where(Task.id == task_id))


def assigned_tasks(
    session: Session,
    org_id: str,
    email: str,
    offset: int,
    limit: int | None,
    done: bool | None = None,
) -> tuple[list[Task], int]:
    """A page of the guest's tasks; `done` picks finished (True) or unfinished (False) ones."""
    base = _assigned(org_id, email)
    if done is not None:
        finished = Task.status.in_(sorted(DONE))
        base = base.where(finished if done else ~finished)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    query = base.order_by(Task.deadline.is_(None), Task.deadline, Task.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), total


def owners_of(session: Session, task_ids: Sequence[str]) -> dict[str, list[TaskOwner]]:
    owners: dict[str, list[TaskOwner]] = {task_id: [] for task_id in task_ids}
    if task_ids:
        rows = session.scalars(
            select(TaskOwner).where(TaskOwner.task_id.in_(task_ids)).order_by(TaskOwner.id)
        )
        for owner in rows:
            owners[owner.task_id].append(owner)
    return owners
