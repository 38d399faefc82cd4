"""The outbox: events written with the change they describe, and their webhook deliveries.

An `Event` is inserted in the same transaction as the change Tallyfy notifies about, so
one that committed is delivered even if the server dies right after, and one that rolled
back never is. A delivery worker later builds its payload once (`payload`), fans it out
to one `WebhookDelivery` per target URL, and records every try as a `WebhookAttempt`.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from procflow.storage.models.base import Base, hex_id_column, now_column


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_org_id_created_at", "org_id", "created_at"),
        Index("ix_event_created_at", "created_at"),  # pruning, oldest first
        Index("ix_event_fanned_out_at", "fanned_out_at"),
        Index("ix_event_mailed_at", "mailed_at"),
    )

    id: Mapped[str] = hex_id_column()
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[str | None] = mapped_column(String(32), default=None)
    task_id: Mapped[str | None] = mapped_column(String(32), default=None)
    comment_id: Mapped[str | None] = mapped_column(String(32), default=None)
    actor_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = now_column()
    fanned_out_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set once the mail worker made the event's e-mails (at once for kinds that mail no one).
    mailed_at: Mapped[datetime | None] = mapped_column(default=None)
    payload: Mapped[Any] = mapped_column(JSON, nullable=True, default=None)


class WebhookDelivery(Base):
    """One event to one URL: `pending` until `delivered` or `failed` (attempts exhausted,
    or a 4xx that retrying cannot mend). A worker claims it by setting `lease_until`."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(2048))
    source: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = now_column()
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    last_status: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = now_column()
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    started_at: Mapped[datetime]
    latency_ms: Mapped[float] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    outcome: Mapped[str] = mapped_column(String(12))


class WebhookSecret(Base):
    """An organization's signing secret; the previous one still signs until `previous_until`
    so that receivers can switch over a rotation without losing deliveries."""

    __tablename__ = "webhook_secret"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(128))
    previous: Mapped[str | None] = mapped_column(String(128), default=None)
    previous_until: Mapped[datetime | None] = mapped_column(default=None)
    rotated_at: Mapped[datetime] = now_column()


class Watcher(Base):
    """A subscription (Tallyfy: watcher): `notification_type` webhook posts every event of
    the watched object to `webhook`."""

    __tablename__ = "watcher"
    __table_args__ = (Index("ix_watcher_org_id_type", "org_id", "notification_type"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[str] = mapped_column(String(64))
    notification_type: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(20), default="electric")
    webhook: Mapped[str | None] = mapped_column(String(2048), default=None)
    created_at: Mapped[datetime] = now_column()
