"""The SQL of pruning: which outbox rows are finished and old, and deleting them.

An event is finished once both workers took it (`fanned_out_at` and `mailed_at` set) and
none of its webhook deliveries or e-mail messages is still pending. It is old once it was
created before the cutoff and none of its deliveries or messages was created after it (a
redelivery keeps an event for a whole retention period more). A message is finished once
sent or failed. Rows are picked oldest first, a batch at a time; on PostgreSQL the picked
events are locked (others skipped), so a redelivery that adds a delivery meanwhile waits
for the batch and then finds the event gone (a 409 to retry, whose retry is a 404).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, or_, select
from sqlalchemy.orm import aliased

from procflow.storage.models import EmailMessage, Event, WebhookAttempt, WebhookDelivery
from procflow.storage.repositories.outbox import _locking

FINISHED_MESSAGE = ("sent", "failed")


@dataclass(frozen=True)
class Counts:
    events: int = 0
    deliveries: int = 0
    attempts: int = 0
    messages: int = 0

    @property
    def total(self) -> int:
        return self.events + self.deliveries + self.attempts + self.messages

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(
            self.events + other.events,
            self.deliveries + other.deliveries,
            self.attempts + other.attempts,
            self.messages + other.messages,
        )


def _old_events(cutoff: datetime) -> Any:
    """The filter on `Event` of finished events older than `cutoff`."""
    # Aliases, so that no enclosing query on the same tables captures them by correlation.
    delivery, message = aliased(WebhookDelivery), aliased(EmailMessage)
    busy_delivery = exists().where(
        delivery.event_id == Event.id,
        or_(delivery.state == "pending", delivery.created_at >= cutoff),
    )
    busy_message = exists().where(
        message.event_id == Event.id,
        or_(message.state == "pending", message.created_at >= cutoff),
    )
    return (
        Event.created_at < cutoff,
        Event.fanned_out_at.is_not(None),
        Event.mailed_at.is_not(None),
        ~busy_delivery,
        ~busy_message,
    )


def _old_messages(cutoff: datetime) -> Any:
    return (EmailMessage.state.in_(FINISHED_MESSAGE), EmailMessage.created_at < cutoff)


def old_event_ids(connection: Connection, cutoff: datetime, limit: int) -> list[str]:
    query = (
        select(Event.id)
        .where(*_old_events(cutoff))
        .order_by(Event.created_at, Event.id)
        .limit(limit)
    )
    return list(connection.execute(_locking(connection, query)).scalars())


def old_message_ids(connection: Connection, cutoff: datetime, limit: int) -> list[int]:
    query = (
        select(EmailMessage.id)
        .where(*_old_messages(cutoff))
        .order_by(EmailMessage.created_at, EmailMessage.id)
        .limit(limit)
    )
    return list(connection.execute(_locking(connection, query)).scalars())


def delete_events(connection: Connection, ids: Sequence[str]) -> Counts:
    """Delete the events and everything hanging from them, children first."""
    if not ids:
        return Counts()
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(ids))
    attempts = connection.execute(
        delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries))
    ).rowcount
    delivered = connection.execute(
        delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(ids))
    ).rowcount
    messages = connection.execute(
        delete(EmailMessage).where(EmailMessage.event_id.in_(ids))
    ).rowcount
    events = connection.execute(delete(Event).where(Event.id.in_(ids))).rowcount
    return Counts(events, delivered, attempts, messages)


def delete_messages(connection: Connection, ids: Sequence[int]) -> Counts:
    if not ids:
        return Counts()
    done = connection.execute(delete(EmailMessage).where(EmailMessage.id.in_(ids)))
    return Counts(messages=done.rowcount)


def count_old(connection: Connection, cutoff: datetime) -> Counts:
    """What pruning at `cutoff` would delete, counted without deleting anything."""
    events = select(Event.id).where(*_old_events(cutoff))
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(events))

    def count(table: Any, *where: Any) -> int:
        return int(connection.scalar(select(func.count()).select_from(table).where(*where)) or 0)

    return Counts(
        events=count(Event, *_old_events(cutoff)),
        deliveries=count(WebhookDelivery, WebhookDelivery.event_id.in_(events)),
        attempts=count(WebhookAttempt, WebhookAttempt.delivery_id.in_(deliveries)),
        messages=count(
            EmailMessage, or_(EmailMessage.event_id.in_(events), and_(*_old_messages(cutoff)))
        ),
    )
