"""Reading and writing tasks, their owners and their form values."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from procflow.domain.runs import DONE, DUE_SOON_WINDOW
from procflow.storage.models import Group, GroupMember, Run, RunField, Step, Task, TaskOwner

SORTS: dict[str, Any] = {
    "position": (Task.position, Task.created_at),
    "-position": (Task.position.desc(), Task.created_at.desc()),
    "deadline": (Task.deadline.is_(None), Task.deadline, Task.position),
    "-deadline": (Task.deadline.is_(None), Task.deadline.desc(), Task.position),
    "newest": (Task.created_at.desc(), Task.increment_id.desc()),
    "-newest": (Task.created_at, Task.increment_id),
    "completed_newest": (Task.completed_at.is_(None), Task.completed_at.desc()),
    "problems": (Task.has_problem.desc(), Task.position),
}


@dataclass(frozen=True)
class TaskFilter:
    """What a task listing narrows to; `None` means no constraint."""

    status: str | None = None
    owners: Sequence[int] | None = None
    unassigned: bool = False
    deadline_before: datetime | None = None
    deadline_after: datetime | None = None
    q: str | None = None
    is_oneoff: bool | None = None
    archived: str | None = None
    sort: str = "position"


def get(session: Session, org_id: str, task_id: str, *, for_update: bool = False) -> Task | None:
    """The task; `for_update` re-reads it and holds its row until commit (PostgreSQL)."""
    if for_update:
        task = session.get(Task, task_id, with_for_update=True, populate_existing=True)
    else:
        task = session.get(Task, task_id)
    return task if task is not None and task.org_id == org_id else None


def owners_of(session: Session, task_ids: Sequence[str]) -> dict[str, list[TaskOwner]]:
    owners: dict[str, list[TaskOwner]] = {task_id: [] for task_id in task_ids}
    if task_ids:
        for owner in session.scalars(
            select(TaskOwner).where(TaskOwner.task_id.in_(task_ids)).order_by(TaskOwner.id)
        ):
            owners[owner.task_id].append(owner)
    return owners


def fields_of(session: Session, task_ids: Sequence[str]) -> dict[str, list[RunField]]:
    fields: dict[str, list[RunField]] = {task_id: [] for task_id in task_ids}
    if task_ids:
        for field in session.scalars(
            select(RunField)
            .where(RunField.task_id.in_(task_ids))
            .order_by(RunField.position, RunField.field_id)
        ):
            fields[field.task_id or ""].append(field)
    return fields


def steps_of(session: Session, step_ids: set[str]) -> dict[str, Step]:
    if not step_ids:
        return {}
    return {s.id: s for s in session.scalars(select(Step).where(Step.id.in_(step_ids)))}


def runs_of(session: Session, run_ids: set[str]) -> dict[str, Run]:
    if not run_ids:
        return {}
    return {r.id: r for r in session.scalars(select(Run).where(Run.id.in_(run_ids)))}


def run_tasks(session: Session, run_id: str) -> list[Task]:
    return list(
        session.scalars(select(Task).where(Task.run_id == run_id, Task.archived_at.is_(None)))
    )


def existing_group_ids(session: Session, org_id: str, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    return set(session.scalars(select(Group.id).where(Group.org_id == org_id, Group.id.in_(ids))))


def group_ids_of_user(session: Session, user_id: int) -> set[str]:
    return set(session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user_id)))


def replace_owners(
    session: Session,
    task_id: str,
    users: Sequence[int],
    guests: Sequence[str],
    groups: Sequence[str],
) -> None:
    session.execute(delete(TaskOwner).where(TaskOwner.task_id == task_id))
    for user_id in dict.fromkeys(users):
        session.add(TaskOwner(task_id=task_id, user_id=user_id))
    for email in dict.fromkeys(guests):
        session.add(TaskOwner(task_id=task_id, guest_email=email))
    for group_id in dict.fromkeys(groups):
        session.add(TaskOwner(task_id=task_id, group_id=group_id))
    session.flush()


def assigned_to(user_id: int) -> Any:
    """A filter: tasks the user holds, directly or through one of their groups."""
    return exists().where(
        TaskOwner.task_id == Task.id,
        or_(
            TaskOwner.user_id == user_id,
            TaskOwner.group_id.in_(
                select(GroupMember.group_id).where(GroupMember.user_id == user_id)
            ),
        ),
    )


def _status_clause(status: str, now: datetime) -> Any:
    done = Task.status.in_([s.value for s in DONE])
    open_ = Task.status.not_in([s.value for s in DONE])
    clauses: dict[str, Any] = {
        "complete": done,
        "completed": done,
        "active": open_,
        "incomplete": open_,
        "inprogress": Task.status == "in-progress",
        "in-progress": Task.status == "in-progress",
        "not-started": Task.status == "not-started",
        "hasproblem": Task.has_problem.is_(True),
        "overdue": open_ & (Task.deadline < now),
        "due_soon": open_ & (Task.deadline >= now) & (Task.deadline <= now + DUE_SOON_WINDOW),
    }
    return clauses.get(status)


def filtered(query: Select[Any], flt: TaskFilter, now: datetime) -> Select[Any]:
    """Apply a listing filter to a task query (unknown status values mean no filter)."""
    if flt.status and flt.status != "all":
        clause = _status_clause(flt.status, now)
        if clause is not None:
            query = query.where(clause)
    if flt.owners:
        query = query.where(
            exists().where(TaskOwner.task_id == Task.id, TaskOwner.user_id.in_(flt.owners))
        )
    if flt.unassigned:
        query = query.where(~exists().where(TaskOwner.task_id == Task.id))
    if flt.deadline_before is not None:
        query = query.where(Task.deadline < flt.deadline_before)
    if flt.deadline_after is not None:
        query = query.where(Task.deadline > flt.deadline_after)
    if flt.q:
        query = query.where(func.lower(Task.title).contains(flt.q.lower(), autoescape=True))
    if flt.is_oneoff is not None:
        query = query.where(Task.run_id.is_(None) if flt.is_oneoff else Task.run_id.is_not(None))
    if flt.archived == "only":
        query = query.where(Task.archived_at.is_not(None))
    elif flt.archived != "true":
        query = query.where(Task.archived_at.is_(None))
    return query


def page(
    session: Session, query: Select[Any], sort: str, offset: int, limit: int | None
) -> tuple[list[Task], int]:
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    ordered = query.order_by(*SORTS.get(sort, SORTS["position"]), Task.id)
    if limit is not None:
        ordered = ordered.offset(offset).limit(limit)
    return list(session.scalars(ordered)), total


def live_runs() -> Any:
    """A filter: process tasks of runs that are not archived, and one-off tasks."""
    return or_(
        Task.run_id.is_(None),
        exists().where(Run.id == Task.run_id, Run.archived_at.is_(None)),
    )


def in_runs_involving(user_id: int) -> Any:
    """A filter: tasks of runs the user owns or started."""
    return exists().where(
        Run.id == Task.run_id, or_(Run.owner_id == user_id, Run.started_by == user_id)
    )


def started_by(user_id: int) -> Any:
    return Task.flags["starter_id"].as_integer() == user_id
