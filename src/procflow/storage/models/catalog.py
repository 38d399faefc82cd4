"""Templates (Tallyfy: checklists), their steps, and their form fields."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from procflow.storage.models.base import Base, hex_id_column, now_column


class Checklist(Base):
    __tablename__ = "checklist"
    __table_args__ = (Index("ix_checklist_org_id_archived_at", "org_id", "archived_at"),)

    id: Mapped[str] = hex_id_column()
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    increment_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(250))
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    type: Mapped[str] = mapped_column(String(16), default="procedure")
    guidance: Mapped[str | None] = mapped_column(Text, default=None)
    webhook: Mapped[str | None] = mapped_column(String(2048), default=None)
    owner_id: Mapped[int | None] = mapped_column(default=None)
    created_by: Mapped[int | None] = mapped_column(default=None)
    folder_id: Mapped[str | None] = mapped_column(
        ForeignKey("folder.id", ondelete="SET NULL"), default=None
    )
    kickoff_title: Mapped[str | None] = mapped_column(String(250), default=None)
    kickoff_description: Mapped[str | None] = mapped_column(Text, default=None)
    is_public: Mapped[bool] = mapped_column(default=False)
    is_public_kickoff: Mapped[bool] = mapped_column(default=False)
    starred: Mapped[bool] = mapped_column(default=False)
    auto_naming: Mapped[bool] = mapped_column(default=False)
    default_process_name_format: Mapped[str | None] = mapped_column(String(550), default=None)
    users: Mapped[list[Any]] = mapped_column(JSON, default=list)
    groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = now_column()
    last_updated: Mapped[datetime] = now_column()
    archived_at: Mapped[datetime | None] = mapped_column(default=None)


class Step(Base):
    __tablename__ = "step"

    id: Mapped[str] = hex_id_column()
    checklist_id: Mapped[str] = mapped_column(
        ForeignKey("checklist.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(600))
    alias: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    step_type: Mapped[str] = mapped_column(String(20), default="task")
    position: Mapped[int] = mapped_column(default=1)
    deadline: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    start_date: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    assignees: Mapped[list[Any]] = mapped_column(JSON, default=list)
    guests: Mapped[list[Any]] = mapped_column(JSON, default=list)
    groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    assign_run_starter: Mapped[bool] = mapped_column(default=True)
    max_assignable: Mapped[int] = mapped_column(default=0)
    webhook: Mapped[str | None] = mapped_column(String(2048), default=None)
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = now_column()
    last_updated: Mapped[datetime] = now_column()


class FormField(Base):
    """A kick-off field (no step) or a capture on a step; its id is the timeline id."""

    __tablename__ = "form_field"

    id: Mapped[str] = hex_id_column()
    checklist_id: Mapped[str] = mapped_column(
        ForeignKey("checklist.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str | None] = mapped_column(
        ForeignKey("step.id", ondelete="CASCADE"), default=None, index=True
    )
    field_type: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(600))
    alias: Mapped[str] = mapped_column(String(64))
    guidance: Mapped[str | None] = mapped_column(Text, default=None)
    position: Mapped[int] = mapped_column(default=1)
    required: Mapped[bool] = mapped_column(default=False)
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)
    columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = now_column()
    last_updated: Mapped[datetime] = now_column()
