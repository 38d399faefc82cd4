"""Events: one row per change Tallyfy notifies about, written in the change's transaction.

This is the transactional outbox (docs/webhooks.md): an event that committed is delivered
even if the server dies right after, one that rolled back never is. Writing one costs a
single INSERT on the unit of work's connection; everything else (the payload, who gets
it) is the delivery worker's business (`services.delivery`).
"""

from typing import Any

from procflow.domain.mail import MAILING_EVENTS
from procflow.domain.timeutil import utcnow
from procflow.domain.webhooks import EventType
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.repositories import outbox


def emit(
    uow: UnitOfWork,
    org_id: str,
    event_type: EventType,
    *,
    run_id: str | None = None,
    task_id: str | None = None,
    comment_id: str | None = None,
    actor_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    """Write one event; its id is the event id header receivers de-duplicate on. One that
    can mail no one is born mailed, so the mail worker never reads it.

    `payload` is for an automation's webhook action: the URL to call and the rule, which
    the delivery worker adds to the payload it builds (`services.delivery`)."""
    now = utcnow()
    return outbox.add_event(
        uow.connection,
        {
            "org_id": org_id,
            "type": event_type.value,
            "run_id": run_id,
            "task_id": task_id,
            "comment_id": comment_id,
            "actor_id": actor_id,
            "created_at": now,
            "mailed_at": None if event_type.value in MAILING_EVENTS else now,
            **({"payload": payload} if payload is not None else {}),
        },
    )
