"""The delivery log: what became of each event (deliveries, attempts, status, latency),
and manual redelivery. Administrators only: payloads carry the whole run.

A redelivery adds a fresh delivery (attempt budget and all) for each URL the event went
to, leaving the old ones in the log as they were; receivers see the same event id again.
An event not sent out yet (it will be), or that had nowhere to go, is left as it is.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from procflow.domain.mail import MAIL_ONLY_EVENTS
from procflow.domain.permissions import Caller
from procflow.domain.timeutil import utcnow
from procflow.errors import NotFound, PermissionDenied
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Event, WebhookAttempt, WebhookDelivery
from procflow.storage.repositories import outbox


@dataclass(frozen=True)
class DeliveryView:
    delivery: WebhookDelivery
    attempts: Sequence[WebhookAttempt]


@dataclass(frozen=True)
class EventView:
    event: Event
    deliveries: Sequence[DeliveryView]


def _require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise PermissionDenied("Only an administrator can read the webhook delivery log.")


def list_events(
    uow: UnitOfWork, caller: Caller, *, offset: int, limit: int, event_type: str | None = None
) -> tuple[list[EventView], int]:
    _require_admin(caller)
    where = [Event.org_id == caller.org_id, Event.type.not_in(MAIL_ONLY_EVENTS)]
    if event_type:
        where.append(Event.type == event_type)
    session = uow.session
    total = session.scalar(select(func.count()).select_from(Event).where(*where)) or 0
    events = list(
        session.scalars(
            select(Event)
            .where(*where)
            .order_by(Event.created_at.desc(), Event.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )
    return _views(uow, events), total


def get_event(uow: UnitOfWork, caller: Caller, event_id: str) -> EventView:
    _require_admin(caller)
    event = uow.session.get(Event, event_id)
    if event is None or event.org_id != caller.org_id or event.type in MAIL_ONLY_EVENTS:
        raise NotFound("Event")
    return _views(uow, [event])[0]


def redeliver(uow: UnitOfWork, caller: Caller, event_id: str) -> EventView:
    view = get_event(uow, caller, event_id)
    urls = {d.delivery.url: d.delivery.source for d in view.deliveries}
    if view.event.fanned_out_at is None or not urls:
        return view  # not sent yet (it will be), or there was nowhere to send it
    now = utcnow()
    outbox.add_deliveries(
        uow.connection,
        [
            {
                "event_id": view.event.id,
                "org_id": view.event.org_id,
                "url": url,
                "source": source,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for url, source in urls.items()
        ],
    )
    return _views(uow, [view.event])[0]


def _views(uow: UnitOfWork, events: Sequence[Event]) -> list[EventView]:
    session = uow.session
    ids = [e.id for e in events]
    deliveries = list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.event_id.in_(ids))
            .order_by(WebhookDelivery.id)
        )
    )
    attempts: dict[int, list[WebhookAttempt]] = {}
    for attempt in session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_([d.id for d in deliveries]))
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number, WebhookAttempt.id)
    ):
        attempts.setdefault(attempt.delivery_id, []).append(attempt)
    per_event: dict[str, list[DeliveryView]] = {}
    for delivery in deliveries:
        per_event.setdefault(delivery.event_id, []).append(
            DeliveryView(delivery, attempts.get(delivery.id, []))
        )
    return [EventView(e, per_event.get(e.id, [])) for e in events]
