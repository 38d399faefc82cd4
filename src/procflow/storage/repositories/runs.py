"""Reading runs and everything a run's representation shows."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Row, Select, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session

from procflow.domain.runs import TaskFacts
from procflow.storage.database import Bind, connection_of
from procflow.storage.models import (
    Checklist,
    Folder,
    FolderLink,
    GroupMember,
    Run,
    RunField,
    RunGroup,
    RunMember,
    Tag,
    TagLink,
    Task,
    TaskOwner,
)
from procflow.storage.repositories import run_hot_path, run_lists_pg


@dataclass
class RunBundle:
    """A run with what its representation needs, loaded in a fixed number of queries."""

    run: Any
    tags: list[tuple[int, Any]] = field(default_factory=list)
    folders: list[tuple[int, Any]] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    kickoff: list[Any] = field(default_factory=list)
    facts: list[TaskFacts] = field(default_factory=list)
    tasks: list[Task] | None = None
    task_owners: dict[str, list[TaskOwner]] = field(default_factory=dict)
    captures: list[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def get(session: Session, org_id: str, run_id: str, *, for_update: bool = False) -> Run | None:
    """The run; `for_update` (re-)reads it and holds its row until commit (PostgreSQL; SQLite
    writers already hold the database lock): writers check and bump `version` one at a time."""
    if for_update:
        run = session.get(Run, run_id, with_for_update=True, populate_existing=True)
    else:
        run = session.get(Run, run_id)
    return run if run is not None and run.org_id == org_id else None


_RUN_ROW = (
    select(*Run.__table__.c)
    .where(Run.id == bindparam("run_id"), Run.org_id == bindparam("org_id"))
    .with_for_update()
)
_RUN_UPDATE = update(Run).where(Run.id == bindparam("run_id_"))


def get_snapshot(session: Bind, org_id: str, run_id: str) -> SimpleNamespace | None:
    """The run's columns as a plain, mutable object: the cheap read of the update path.

    The row stays locked until commit (`FOR UPDATE`), so a concurrent writer cannot pass
    the same `If-Match` check or bump `version` from the same value."""
    row = connection_of(session).execute(_RUN_ROW, {"run_id": run_id, "org_id": org_id}).first()
    return None if row is None else SimpleNamespace(**row._mapping)


def locked_bundle(
    session: Bind,
    org_id: str,
    run_id: str,
    *,
    with_tasks: bool = False,
    with_captures: bool = False,
    with_checklist: bool = False,
) -> RunBundle | None:
    """`get_snapshot` and `bundle` together: the read of a run's writers.

    On SQLite, for the default view, that is one statement (`run_hot_path`); elsewhere
    the snapshot's row is locked (`FOR UPDATE`) and the lists are read after it."""
    if not (with_tasks or with_captures or with_checklist) and run_hot_path.applies(session):
        run, lists = run_hot_path.read(session, org_id, run_id)
        return None if run is None else RunBundle(run=run, **lists)
    snapshot = get_snapshot(session, org_id, run_id)
    if snapshot is None:
        return None
    return bundle(
        session,
        snapshot,  # type: ignore[arg-type]
        with_tasks=with_tasks,
        with_captures=with_captures,
        with_checklist=with_checklist,
    )


def write(session: Bind, run_id: str, values: dict[str, Any]) -> None:
    """Write changed columns of one run (the snapshot counterpart of a flush)."""
    if run_hot_path.applies(session):
        run_hot_path.write(session, run_id, values)
    else:
        connection_of(session).execute(_RUN_UPDATE, {"run_id_": run_id, **values})


def _owns_task(user_id: int) -> Any:
    """A task owner row that names the user directly or through one of the user's groups."""
    return or_(
        TaskOwner.user_id == user_id,
        TaskOwner.group_id.in_(select(GroupMember.group_id).where(GroupMember.user_id == user_id)),
    )


def holds_task(session: Session, run_id: str, user_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    _owns_task(user_id), TaskOwner.task_id == Task.id, Task.run_id == run_id
                )
            )
        )
    )


# Built once: the run representation is read on every run request, and building
# statements per call costs more than executing them. Rows come back without ORM
# bookkeeping; they expose the same attribute names as the models.
_TAGS = (
    select(TagLink.id.label("link_id"), Tag.id, Tag.title, Tag.color, Tag.auto_generated)
    .join(Tag, Tag.id == TagLink.tag_id)
    .where(TagLink.run_id == bindparam("run_id"))
    .order_by(TagLink.id)
)
_FOLDERS = (
    select(FolderLink.id.label("link_id"), Folder.id, Folder.name, Folder.parent_id)
    .join(Folder, Folder.id == FolderLink.folder_id)
    .where(FolderLink.run_id == bindparam("run_id"))
    .order_by(FolderLink.id)
)
_USERS = (
    select(RunMember.user_id)
    .where(RunMember.run_id == bindparam("run_id"))
    .order_by(RunMember.position, RunMember.user_id)
)
_GROUPS = (
    select(RunGroup.group_id)
    .where(RunGroup.run_id == bindparam("run_id"))
    .order_by(RunGroup.position, RunGroup.group_id)
)
_FIELDS = (
    select(*RunField.__table__.c)
    .where(RunField.run_id == bindparam("run_id"))
    .order_by(RunField.position, RunField.field_id)
)
_FACTS = select(Task.status, Task.deadline, Task.has_problem).where(
    Task.run_id == bindparam("run_id"), Task.archived_at.is_(None)
)


def _rows(session: Bind, statement: Any, run_id: str) -> Sequence[Row[Any]]:
    return connection_of(session).execute(statement, {"run_id": run_id}).all()


def _tags(session: Bind, run_id: str) -> list[tuple[int, Any]]:
    return [(row.link_id, row) for row in _rows(session, _TAGS, run_id)]


def _folders(session: Bind, run_id: str) -> list[tuple[int, Any]]:
    return [(row.link_id, row) for row in _rows(session, _FOLDERS, run_id)]


def _users(session: Bind, run_id: str) -> list[int]:
    return [row.user_id for row in _rows(session, _USERS, run_id)]


def _groups(session: Bind, run_id: str) -> list[str]:
    return [row.group_id for row in _rows(session, _GROUPS, run_id)]


def _fields(session: Bind, bundle: RunBundle, with_captures: bool) -> None:
    _keep_fields(bundle, _rows(session, _FIELDS, bundle.run.id), with_captures)


def _keep_fields(bundle: RunBundle, fields: Sequence[Any], with_captures: bool) -> None:
    bundle.kickoff = [f for f in fields if f.task_id is None]
    if with_captures:
        bundle.captures = [f for f in fields if f.task_id is not None]


def refresh_lists(session: Bind, bundle: RunBundle, changed: set[str]) -> None:
    """Re-read only what an update changed."""
    if "tags" in changed:
        bundle.tags = _tags(session, bundle.run.id)
    if "folders" in changed:
        bundle.folders = _folders(session, bundle.run.id)
    if "users" in changed:
        bundle.users = _users(session, bundle.run.id)
    if "groups" in changed:
        bundle.groups = _groups(session, bundle.run.id)
    if any(key.startswith(("prerun.", "taskdata.")) for key in changed):
        _fields(session, bundle, bundle.captures is not None)


def bundle(
    session: Bind,
    run: Run,
    *,
    with_tasks: bool = False,
    with_captures: bool = False,
    with_checklist: bool = False,
) -> RunBundle:
    result = RunBundle(run=run)
    if with_checklist and run.checklist_id:
        assert isinstance(session, Session), "the checklist include needs the ORM session"
        result.extra["checklist"] = session.get(Checklist, run.checklist_id)
    one_statement = run_lists_pg.applies(session)
    if one_statement:
        lists = run_lists_pg.read(session, run.id)
        result.tags, result.folders = lists["tags"], lists["folders"]
        result.users, result.groups = lists["users"], lists["groups"]
        _keep_fields(result, lists["fields"], with_captures)
        result.facts = lists["facts"]
    else:
        result.tags = _tags(session, run.id)
        result.folders = _folders(session, run.id)
        result.users = _users(session, run.id)
        result.groups = _groups(session, run.id)
        _fields(session, result, with_captures)
    if with_tasks:
        assert isinstance(session, Session), "the tasks include needs the ORM session"
        result.tasks = tasks_of(session, run.id)
        result.task_owners = owners_of(session, [t.id for t in result.tasks])
        result.facts = [TaskFacts(t.status, t.deadline, t.has_problem) for t in result.tasks]
    elif not one_statement:
        result.facts = facts_of(session, run.id)
    return result


def facts_of(session: Bind, run_id: str) -> list[TaskFacts]:
    """What the run's figures (and so its entity tag) depend on, without the rest."""
    return [
        TaskFacts(row.status, row.deadline, row.has_problem)
        for row in _rows(session, _FACTS, run_id)
    ]


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
        exists().where(_owns_task(user_id), TaskOwner.task_id == Task.id, Task.run_id == Run.id),
    )
