"""Comments on tasks, and the append-only activity trail."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from procflow.storage.models.base import Base, hex_id_column, now_column


class Comment(Base):
    """A comment, problem report or resolution on a task (Tallyfy: thread)."""

    __tablename__ = "comment"

    id: Mapped[str] = hex_id_column()
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    author_guest_id: Mapped[int | None] = mapped_column(
        ForeignKey("guest.id", ondelete="SET NULL"), default=None
    )
    content: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(20), default="comment")
    state: Mapped[str] = mapped_column(String(20), default="open")
    resolve_id: Mapped[str | None] = mapped_column(String(32), default=None)
    sent_to: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    archived_at: Mapped[datetime | None] = mapped_column(default=None)


NOT_A_RUN = "object_type <> 'run'"


class Activity(Base):
    """One recorded change. Append-only: the database refuses UPDATE and DELETE on it.

    It carries no foreign keys on purpose, so that the trail outlives what it describes.
    """

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_org_id_id", "org_id", "id"),
        # A run's own records are found by run_id; this index serves the other objects.
        Index(
            "ix_activity_object",
            "object_type",
            "object_id",
            sqlite_where=text(NOT_A_RUN),
            postgresql_where=text(NOT_A_RUN),
        ),
        Index("ix_activity_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(32))
    actor_type: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(default=None)
    verb: Mapped[str] = mapped_column(String(30))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(32), default=None)
    field: Mapped[str | None] = mapped_column(String(200), default=None)
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True, default=None)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True, default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = now_column()
