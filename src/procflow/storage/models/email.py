"""E-mail: messages made from outbox events, members' opt-outs, reminders already due,
and the schedule slot that lets one worker at a time look for due reminders.

A mail worker turns each event (`Event.mailed_at` still empty) into at most one
`EmailMessage` per recipient address, in one transaction, then claims and sends messages
as the webhook worker does deliveries.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from procflow.storage.models.base import Base, now_column
from procflow.storage.models.run import Task


class EmailMessage(Base):
    """One e-mail for one event: `pending` until `sent` or `failed`. Unique per event and
    address, so an event never mails anyone twice; a worker claims it with `lease_until`."""

    __tablename__ = "email_message"
    __table_args__ = (
        UniqueConstraint("event_id", "to_address"),
        Index("ix_email_message_state_next", "state", "next_attempt_at"),
        Index("ix_email_message_created_at", "created_at"),  # pruning
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    org_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(default=None)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text, default=None)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = now_column()
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = now_column()
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class EmailOptOut(Base):
    """A kind of e-mail a member turned off in one organization (no row: it is on)."""

    __tablename__ = "email_opt_out"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)


class TaskReminder(Base):
    """A reminder the scheduler already raised: one per task, kind and deadline, so a moved
    deadline is reminded of again and an unchanged one never twice."""

    __tablename__ = "task_reminder"

    task_id: Mapped[str] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[datetime] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = now_column()


class ScheduleSlot(Base):
    """A periodic job shared by every worker: whoever moves `due_at` forward runs it."""

    __tablename__ = "schedule_slot"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    due_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)


# The scheduler's scan: open tasks whose deadline is near or past.
Index("ix_task_deadline", Task.deadline)
