"""Watchers, the webhook delivery log and the signing secret as the API shows them."""

from typing import Any

from procflow.domain.timeutil import format_ts
from procflow.services.watchers import Watcher
from procflow.services.webhook_log import DeliveryView, EventView
from procflow.services.webhook_secrets import WebhookSecret


def watcher_json(watcher: Watcher) -> dict[str, Any]:
    return {
        "id": watcher.id,
        "user_id": watcher.user_id,
        "object_type": watcher.object_type,
        "object_id": watcher.object_id,
        "notification_type": watcher.notification_type,
        "frequency": watcher.frequency,
        "webhook": watcher.webhook,
        "created_at": format_ts(watcher.created_at),
    }


def delivery_json(view: DeliveryView) -> dict[str, Any]:
    delivery = view.delivery
    return {
        "id": delivery.id,
        "url": delivery.url,
        "source": delivery.source,
        "state": delivery.state,
        "attempts_made": delivery.attempts,
        "last_status": delivery.last_status,
        "next_attempt_at": format_ts(delivery.next_attempt_at)
        if delivery.state == "pending"
        else None,
        "delivered_at": format_ts(delivery.delivered_at),
        "created_at": format_ts(delivery.created_at),
        "attempts": [
            {
                "number": a.number,
                "started_at": format_ts(a.started_at),
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error": a.error,
                "outcome": a.outcome,
            }
            for a in view.attempts
        ],
    }


def event_json(view: EventView, *, payload: bool = False) -> dict[str, Any]:
    event = view.event
    data: dict[str, Any] = {
        "id": event.id,
        "event": event.type,
        "run_id": event.run_id,
        "task_id": event.task_id,
        "comment_id": event.comment_id,
        "actor_id": event.actor_id,
        "created_at": format_ts(event.created_at),
        "sent_out_at": format_ts(event.fanned_out_at),
        "deliveries": [delivery_json(d) for d in view.deliveries],
    }
    if payload:
        data["payload"] = event.payload
    return data


def secret_json(row: WebhookSecret) -> dict[str, Any]:
    return {
        "secret": row.secret,
        "rotated_at": format_ts(row.rotated_at),
        "previous_valid_until": format_ts(row.previous_until),
    }
