"""Reading runs and everything a run's representation shows."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Select, Update, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session

from procflow.domain.runs import TaskFacts
from procflow.storage.database import Bind, connection_of
from procflow.storage.models import (
    Checklist,
    GroupMember,
    Run,
    RunField,
    Task,
    TaskOwner,
)
from procflow.storage.postgresql import driver as pg_driver
from procflow.storage.repositories import run_read, run_read_sql
from procflow.storage.repositories.run_rows import FieldRow, FolderRow, RunLists, RunRow, TagRow
from procflow.storage.sqlite import driver

RunRecord = Run | RunRow
"""A run as a writer holds it: the ORM object, or the run update's snapshot."""


@dataclass
class RunBundle:
    """A run with what its representation needs, loaded in a fixed number of queries.

    `run` is the ORM object where a writer changes it through the session, or a
    `RunRow` snapshot on the run update's path."""

    run: RunRecord
    tags: list[tuple[int, TagRow]] = field(default_factory=list)
    folders: list[tuple[int, FolderRow]] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    kickoff: list[FieldRow] = field(default_factory=list)
    facts: list[TaskFacts] = field(default_factory=list)
    tasks: list[Task] | None = None
    task_owners: dict[str, list[TaskOwner]] = field(default_factory=dict)
    captures: list[FieldRow] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def keep(self, lists: RunLists, *, with_captures: bool) -> None:
        self.tags, self.folders = lists.tags, lists.folders
        self.users, self.groups = lists.users, lists.groups
        self.kickoff = [f for f in lists.fields if f.task_id is None]
        if with_captures:
            self.captures = [f for f in lists.fields if f.task_id is not None]
        self.facts = lists.facts


class Transaction(Protocol):
    """What a unit of work offers a repository: its connection, and an ORM session
    (made on demand) for what needs ORM objects."""

    @property
    def connection(self) -> Connection: ...

    @property
    def session(self) -> Session: ...


def get(session: Session, org_id: str, run_id: str, *, for_update: bool = False) -> Run | None:
    """The run; `for_update` (re-)reads it and holds its row until commit (PostgreSQL; SQLite
    writers already hold the database lock): writers check and bump `version` one at a time."""
    if for_update:
        run = session.get(Run, run_id, with_for_update=True, populate_existing=True)
    else:
        run = session.get(Run, run_id)
    return run if run is not None and run.org_id == org_id else None


_RUN_UPDATE = update(Run).where(Run.id == bindparam("run_id_"))
_RUN_COLUMNS = {c.name: c for c in run_read_sql.RUN_COLUMNS}


def locked_bundle(
    tx: Transaction,
    org_id: str,
    run_id: str,
    *,
    with_tasks: bool = False,
    with_captures: bool = False,
    with_checklist: bool = False,
) -> RunBundle | None:
    """The read of a run's writers: the run as a `RunRow` snapshot and its lists, its row
    locked until commit (`run_read.read_locked`); tasks and the template, if asked for,
    as ORM objects."""
    found = run_read.read_locked(tx.connection, org_id, run_id, with_captures=with_captures)
    if found is None:
        return None
    run, lists = found
    result = RunBundle(run=run)
    result.keep(lists, with_captures=with_captures)
    if with_tasks or with_checklist:
        _add_includes(tx.session, result, with_tasks, with_checklist)
    return result


def write(connection: Connection, run_id: str, values: dict[str, Any]) -> None:
    """Write changed columns of one run (the snapshot counterpart of a flush)."""
    if connection.dialect.name == "sqlite":
        driver.update_row(connection, "run", _RUN_COLUMNS, run_id, values)
    else:
        names = list(values)
        key = ("run_update", *names)
        statement = pg_driver.compiled(connection, key, lambda: _RUN_UPDATE, names)
        pg_driver.execute(connection, statement, {"run_id_": run_id, **values})


def update_of(names: Sequence[str]) -> Update:
    """The run UPDATE of `write`, setting `names` from parameters of the same names."""
    columns = run_read_sql.table(Run).c
    return _RUN_UPDATE.values({name: bindparam(name, type_=columns[name].type) for name in names})


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


_FACTS = select(Task.status, Task.deadline, Task.has_problem).where(
    Task.run_id == bindparam("run_id"), Task.archived_at.is_(None)
)


def refresh_lists(connection: Connection, bundle: RunBundle, changed: set[str]) -> None:
    """Re-read the lists after an update changed some of them (one statement)."""
    fields = any(key.startswith(("prerun.", "taskdata.")) for key in changed)
    if not (fields or changed & {"tags", "folders", "users", "groups"}):
        return
    with_captures = bundle.captures is not None
    lists = run_read.read_lists(connection, bundle.run.id, with_captures=with_captures)
    facts = bundle.facts
    bundle.keep(lists, with_captures=with_captures)
    bundle.facts = facts  # what the representation was computed from: tasks may hold them


def bundle(
    session: Session,
    run: Run,
    *,
    with_tasks: bool = False,
    with_captures: bool = False,
    with_checklist: bool = False,
) -> RunBundle:
    """The representation of a run already read."""
    result = RunBundle(run=run)
    lists = run_read.read_lists(connection_of(session), run.id, with_captures=with_captures)
    result.keep(lists, with_captures=with_captures)
    _add_includes(session, result, with_tasks, with_checklist)
    return result


def _add_includes(
    session: Session, result: RunBundle, with_tasks: bool, with_checklist: bool
) -> None:
    if with_checklist and result.run.checklist_id:
        result.extra["checklist"] = session.get(Checklist, result.run.checklist_id)
    if with_tasks:
        result.tasks = tasks_of(session, result.run.id)
        result.task_owners = owners_of(session, [t.id for t in result.tasks])
        result.facts = [TaskFacts(t.status, t.deadline, t.has_problem) for t in result.tasks]


def facts_of(session: Bind, run_id: str) -> list[TaskFacts]:
    """What the run's figures (and so its entity tag) depend on, without the rest."""
    rows = connection_of(session).execute(_FACTS, {"run_id": run_id})
    return [TaskFacts(row.status, row.deadline, row.has_problem) for row in rows]


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
