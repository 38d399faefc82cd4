"""Runs (processes), their tasks, and the form values they carry."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from procflow.storage.models.base import Base, hex_id_column, now_column


class Run(Base):
    __tablename__ = "run"
    __table_args__ = (
        Index("ix_run_org_id_archived_at", "org_id", "archived_at"),
        Index("ix_run_checklist_id", "checklist_id"),
    )

    id: Mapped[str] = hex_id_column()
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    increment_id: Mapped[int]
    checklist_id: Mapped[str | None] = mapped_column(
        ForeignKey("checklist.id", ondelete="SET NULL"), default=None
    )
    checklist_title: Mapped[str | None] = mapped_column(String(250), default=None)
    name: Mapped[str] = mapped_column(String(550))
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16), default="active")
    type: Mapped[str] = mapped_column(String(16), default="procedure")
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    started_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("run.id", ondelete="SET NULL"), default=None
    )
    starred: Mapped[bool] = mapped_column(default=False)
    is_public: Mapped[bool] = mapped_column(default=False)
    prevent_guest_comment: Mapped[bool] = mapped_column(default=False)
    prerun_completed_at: Mapped[datetime | None] = mapped_column(default=None)
    prerun_completed_by: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = now_column()
    started_at: Mapped[datetime] = now_column()
    last_updated: Mapped[datetime] = now_column()
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    archived_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)


class RunMember(Base):
    """A member named in the run's `users` list."""

    __tablename__ = "run_member"

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_run_id_position", "run_id", "position"),
        # The run list's status filters, answered from the index alone (migration 0013).
        Index("ix_task_run_id_state", "run_id", "archived_at", "status", "has_problem"),
    )

    id: Mapped[str] = hex_id_column()
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("run.id", ondelete="CASCADE"), default=None
    )
    step_id: Mapped[str | None] = mapped_column(
        ForeignKey("step.id", ondelete="SET NULL"), default=None
    )
    increment_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(600))
    alias: Mapped[str | None] = mapped_column(String(64), default=None)
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    task_type: Mapped[str] = mapped_column(String(20), default="task")
    status: Mapped[str] = mapped_column(String(16), default="not-started")
    position: Mapped[int] = mapped_column(default=1)
    deadline: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    completer_id: Mapped[int | None] = mapped_column(default=None)
    is_approved: Mapped[bool | None] = mapped_column(default=None)
    has_problem: Mapped[bool] = mapped_column(default=False)
    max_assignable: Mapped[int] = mapped_column(default=0)
    prevent_guest_comment: Mapped[bool] = mapped_column(default=False)
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = now_column()
    last_updated: Mapped[datetime] = now_column()
    archived_at: Mapped[datetime | None] = mapped_column(default=None)


class TaskOwner(Base):
    """One assignee of a task: a member, a guest (by email) or a group."""

    __tablename__ = "task_owner"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), default=None, index=True
    )
    guest_email: Mapped[str | None] = mapped_column(String(254), default=None)
    group_id: Mapped[str | None] = mapped_column(String(32), default=None)


class RunField(Base):
    """A run's copy of one template field, with its current value.

    Copied at launch so that later template edits never change a running process.
    """

    __tablename__ = "run_field"

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    field_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    task_id: Mapped[str | None] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), default=None, index=True
    )
    field_type: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(600))
    alias: Mapped[str] = mapped_column(String(64))
    guidance: Mapped[str | None] = mapped_column(Text, default=None)
    position: Mapped[int] = mapped_column(default=1)
    required: Mapped[bool] = mapped_column(default=False)
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)
    columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    value: Mapped[Any] = mapped_column(JSON, default=None)
    last_updated: Mapped[datetime] = now_column()
