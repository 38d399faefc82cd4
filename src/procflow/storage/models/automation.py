"""Automation rules of a template, and what each run last made of them."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from procflow.storage.models.base import Base, hex_id_column, now_column


class AutomatedAction(Base):
    """One rule (Tallyfy: automated action): its conditions and actions as stored JSON,
    already checked against its template."""

    __tablename__ = "automated_action"

    id: Mapped[str] = hex_id_column()
    checklist_id: Mapped[str] = mapped_column(
        ForeignKey("checklist.id", ondelete="CASCADE"), index=True
    )
    automated_alias: Mapped[str] = mapped_column(String(200), default="")
    condition_logic: Mapped[str] = mapped_column(String(3), default="AND")
    conditions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    then_actions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = now_column()
    last_updated: Mapped[datetime] = now_column()


class RunAutomation(Base):
    """The rules that held for a run at its last evaluation: the next one applies only
    what changed since (so manual edits in between survive) and fires edge actions once."""

    __tablename__ = "run_automation"

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    matched: Mapped[list[Any]] = mapped_column(JSON, default=list)
