"""The mail side of the outbox: claiming events to mail, messages to send and the
reminder schedule, each so that two workers never share one (see `outbox`: PostgreSQL
skips rows another worker locked, SQLite's single write lock makes one UPDATE atomic)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from procflow.domain.runs import DONE
from procflow.storage.models import EmailMessage, Event, Run, ScheduleSlot, Task, TaskReminder
from procflow.storage.repositories.outbox import _locking, claim_leased


def claim_events(connection: Connection, now: datetime, limit: int) -> list[str]:
    """Events not mailed yet, marked mailed by this transaction: it must make their
    messages before it commits."""
    pick = _locking(
        connection,
        select(Event.id)
        .where(Event.mailed_at.is_(None))
        .order_by(Event.created_at, Event.id)
        .limit(limit),
    )
    claimed = connection.execute(
        update(Event)
        .where(Event.id.in_(pick.scalar_subquery()), Event.mailed_at.is_(None))
        .values(mailed_at=now)
        .returning(Event.id)
        .execution_options(synchronize_session=False)
    )
    return list(claimed.scalars())


def add_messages(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(EmailMessage), list(rows))


def claim_messages(
    connection: Connection, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[int]:
    return claim_leased(connection, EmailMessage, worker, now, lease_until, limit)


def release(connection: Connection, worker: str, message_id: int, values: dict[str, Any]) -> bool:
    """Write a send's result onto a message still leased to `worker` (False: lease lost)."""
    done = connection.execute(
        update(EmailMessage)
        .where(EmailMessage.id == message_id, EmailMessage.claimed_by == worker)
        .values(lease_until=None, claimed_by=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)


def claim_slot(
    connection: Connection, name: str, worker: str, now: datetime, next_due: datetime
) -> bool:
    """Take a periodic job's turn: True for the one worker that moved `due_at` past now.
    A second worker's UPDATE waits for the first's row lock (PostgreSQL) or the write lock
    (SQLite), then finds `due_at` in the future and changes nothing."""
    done = connection.execute(
        update(ScheduleSlot)
        .where(ScheduleSlot.name == name, ScheduleSlot.due_at <= now)
        .values(due_at=next_due, claimed_by=worker)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)


def set_slot_due(connection: Connection, name: str, due: datetime) -> None:
    connection.execute(update(ScheduleSlot).where(ScheduleSlot.name == name).values(due_at=due))


def tasks_to_remind(
    connection: Connection,
    kind: str,
    start: datetime | None,
    end: datetime,
    limit: int,
    after: tuple[datetime, str] | None = None,
) -> list[tuple[str, str, str | None, datetime]]:
    """Open tasks of live processes whose deadline is in [start, end) and that have no
    `kind` reminder for that deadline yet, in (deadline, id) order and past `after` when
    given: (task id, org id, run id, deadline)."""
    reminded = exists().where(
        TaskReminder.task_id == Task.id,
        TaskReminder.kind == kind,
        TaskReminder.deadline == Task.deadline,
    )
    window = [Task.deadline.is_not(None), Task.deadline < end]
    if after is not None and (start is None or after[0] >= start):
        start = after[0]
        window.append(~and_(Task.deadline == after[0], Task.id <= after[1]))
    if start is not None:
        window.append(Task.deadline >= start)
    query = (
        select(Task.id, Task.org_id, Task.run_id, Task.deadline)
        .outerjoin(Run, Run.id == Task.run_id)
        .where(
            *window,
            Task.status.not_in([s.value for s in DONE]),
            Task.archived_at.is_(None),
            Run.archived_at.is_(None),
            ~reminded,
        )
        .order_by(Task.deadline, Task.id)
        .limit(limit)
    )
    return [(r[0], r[1], r[2], r[3]) for r in connection.execute(query) if r[3] is not None]


def add_reminders(connection: Connection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert reminders, skipping any another scheduler wrote first; the task ids written."""
    if not rows:
        return set()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(TaskReminder)
        .values(list(rows))
        .on_conflict_do_nothing()
        .returning(TaskReminder.task_id)
    )
    return set(connection.execute(statement).scalars())
