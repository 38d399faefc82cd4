"""The outbox's SQL: writing an event, and claiming work so two workers never share it.

A claim is one UPDATE over the rows its subquery picks. On PostgreSQL the subquery takes
them `FOR UPDATE SKIP LOCKED`, so a second worker passes over rows the first holds rather
than waiting for them; on SQLite the UPDATE runs under the database's single write lock,
so it is atomic as it stands. Either way a row is claimed by one worker at a time: events
until fanned out (in the claiming transaction), deliveries until their lease ends.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, or_, select, update

from procflow.domain.ids import new_id
from procflow.storage.models import Event, WebhookAttempt, WebhookDelivery


def add_event(connection: Connection, row: dict[str, Any]) -> str:
    event_id = new_id()
    connection.execute(insert(Event), [{"id": event_id, **row}])
    return event_id


def _locking(connection: Connection, query: Any) -> Any:
    if connection.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def claim_events(connection: Connection, now: datetime, limit: int) -> list[str]:
    """Events not yet fanned out, marked fanned out by this transaction: it must create
    their deliveries before it commits."""
    pick = _locking(
        connection,
        select(Event.id)
        .where(Event.fanned_out_at.is_(None))
        .order_by(Event.created_at, Event.id)
        .limit(limit),
    )
    claimed = connection.execute(
        update(Event)
        .where(Event.id.in_(pick.scalar_subquery()), Event.fanned_out_at.is_(None))
        .values(fanned_out_at=now)
        .returning(Event.id)
        .execution_options(synchronize_session=False)
    )
    return list(claimed.scalars())


def claim_leased(
    connection: Connection,
    table: Any,
    worker: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[int]:
    """Pending rows of `table` (a webhook delivery or an e-mail message: `state`,
    `next_attempt_at`, `lease_until`, `claimed_by`) that are due and not leased to a live
    worker, leased to `worker`."""
    free = or_(table.lease_until.is_(None), table.lease_until < now)
    due = and_(table.state == "pending", table.next_attempt_at <= now, free)
    pick = _locking(
        connection,
        select(table.id).where(due).order_by(table.next_attempt_at, table.id).limit(limit),
    )
    claimed = connection.execute(
        update(table)
        .where(table.id.in_(pick.scalar_subquery()), due)
        .values(lease_until=lease_until, claimed_by=worker)
        .returning(table.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())


def claim_deliveries(
    connection: Connection, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[int]:
    return claim_leased(connection, WebhookDelivery, worker, now, lease_until, limit)


def add_deliveries(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(WebhookDelivery), list(rows))


def release_many(connection: Connection, worker: str, rows: Sequence[dict[str, Any]]) -> None:
    """`release` for many deliveries in one statement; every row has the same keys: `b_id`
    (the delivery) and the columns to write. Rows whose lease was lost are left alone."""
    if not rows:
        return
    columns = [key for key in rows[0] if key != "b_id"]
    connection.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == bindparam("b_id"), WebhookDelivery.claimed_by == worker)
        .values(lease_until=None, claimed_by=None, **{c: bindparam(f"b_{c}") for c in columns})
        .execution_options(synchronize_session=False),
        [{"b_id": row["b_id"], **{f"b_{c}": row[c] for c in columns}} for row in rows],
    )


def set_payloads(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store fanned-out events' payloads: rows of `b_id` and `payload`."""
    if rows:
        connection.execute(
            update(Event)
            .where(Event.id == bindparam("b_id"))
            .values(payload=bindparam("payload"))
            .execution_options(synchronize_session=False),
            list(rows),
        )


def add_attempts(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(WebhookAttempt), list(rows))
