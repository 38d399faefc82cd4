"""Reading runs and everything a run's representation shows."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from procflow.domain.runs import TaskFacts
from procflow.storage.models import (
    Checklist,
    Folder,
    FolderLink,
    Run,
    RunField,
    RunMember,
    Tag,
    TagLink,
    Task,
    TaskOwner,
)


@dataclass
class RunBundle:
    """A run with what its representation needs, loaded in a fixed number of queries."""

    run: Run
    tags: list[tuple[int, Tag]] = field(default_factory=list)
    folders: list[tuple[int, Folder]] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    kickoff: list[RunField] = field(default_factory=list)
    facts: list[TaskFacts] = field(default_factory=list)
    tasks: list[Task] | None = None
    task_owners: dict[str, list[TaskOwner]] = field(default_factory=dict)
    captures: list[RunField] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def get(session: Session, org_id: str, run_id: str) -> Run | None:
    run = session.get(Run, run_id)
    return run if run is not None and run.org_id == org_id else None


def holds_task(session: Session, run_id: str, user_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    TaskOwner.user_id == user_id,
                    TaskOwner.task_id == Task.id,
                    Task.run_id == run_id,
                )
            )
        )
    )


def _tags(session: Session, run_id: str) -> list[tuple[int, Tag]]:
    rows = session.execute(
        select(TagLink.id, Tag)
        .join(Tag, Tag.id == TagLink.tag_id)
        .where(TagLink.run_id == run_id)
        .order_by(TagLink.id)
    )
    return [(link_id, tag) for link_id, tag in rows]


def _folders(session: Session, run_id: str) -> list[tuple[int, Folder]]:
    rows = session.execute(
        select(FolderLink.id, Folder)
        .join(Folder, Folder.id == FolderLink.folder_id)
        .where(FolderLink.run_id == run_id)
        .order_by(FolderLink.id)
    )
    return [(link_id, folder) for link_id, folder in rows]


def _users(session: Session, run_id: str) -> list[int]:
    return list(
        session.scalars(
            select(RunMember.user_id)
            .where(RunMember.run_id == run_id)
            .order_by(RunMember.position, RunMember.user_id)
        )
    )


def refresh_lists(session: Session, bundle: RunBundle, changed: set[str]) -> None:
    """Re-read only the lists an update replaced; field values change in place."""
    if "tags" in changed:
        bundle.tags = _tags(session, bundle.run.id)
    if "folders" in changed:
        bundle.folders = _folders(session, bundle.run.id)
    if "users" in changed:
        bundle.users = _users(session, bundle.run.id)


def bundle(
    session: Session,
    run: Run,
    *,
    with_tasks: bool = False,
    with_captures: bool = False,
    with_checklist: bool = False,
) -> RunBundle:
    result = RunBundle(run=run)
    if with_checklist and run.checklist_id:
        result.extra["checklist"] = session.get(Checklist, run.checklist_id)
    result.tags = _tags(session, run.id)
    result.folders = _folders(session, run.id)
    result.users = _users(session, run.id)
    fields = list(
        session.scalars(
            select(RunField)
            .where(RunField.run_id == run.id)
            .order_by(RunField.position, RunField.field_id)
        )
    )
    result.kickoff = [f for f in fields if f.task_id is None]
    if with_captures:
        result.captures = [f for f in fields if f.task_id is not None]
    if with_tasks:
        result.tasks = tasks_of(session, run.id)
        result.task_owners = owners_of(session, [t.id for t in result.tasks])
        result.facts = [TaskFacts(t.status, t.deadline, t.has_problem) for t in result.tasks]
    else:
        result.facts = [
            TaskFacts(status, deadline, problem)
            for status, deadline, problem in session.execute(
                select(Task.status, Task.deadline, Task.has_problem).where(
                    Task.run_id == run.id, Task.archived_at.is_(None)
                )
            )
        ]
    return result


def tasks_of(session: Session, run_id: str) -> list[Task]:
    return list(
        session.scalars(
            select(Task)
            .where(Task.run_id == run_id, Task.archived_at.is_(None))
            .order_by(Task.position, Task.created_at)
        )
    )


def owners_of(session: Session, task_ids: Sequence[str]) -> dict[str, list[TaskOwner]]:
    owners: dict[str, list[TaskOwner]] = {task_id: [] for task_id in task_ids}
    if task_ids:
        for owner in session.scalars(
            select(TaskOwner).where(TaskOwner.task_id.in_(task_ids)).order_by(TaskOwner.id)
        ):
            owners[owner.task_id].append(owner)
    return owners


def fields_of(session: Session, run_id: str) -> list[RunField]:
    return list(session.scalars(select(RunField).where(RunField.run_id == run_id)))


def count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def involving(user_id: int) -> Any:
    """A filter: runs the user owns, started, or holds a task in."""
    return or_(
        Run.owner_id == user_id,
        Run.started_by == user_id,
        exists().where(
            TaskOwner.user_id == user_id, TaskOwner.task_id == Task.id, Task.run_id == Run.id
        ),
    )
