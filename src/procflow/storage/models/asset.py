"""Uploaded files (Tallyfy's assets): the row is the truth, the bytes live in a blob store."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from procflow.storage.models.base import Base, hex_id_column, now_column


class Asset(Base):
    """One uploaded file.

    `subject_type`/`subject_id` name what it was uploaded for (a run, a template's kick-off
    form, a one-off task), as Tallyfy records it. `run_id` is the run whose form values
    hold it, once it is attached: from then on the run's access rules apply to it, and it
    goes when the run is deleted for good. `storage_key` is server-made; the client's file
    name is kept only as data.
    """

    __tablename__ = "asset"
    __table_args__ = (
        Index("ix_asset_org_id_subject", "org_id", "subject_type", "subject_id"),
        Index("ix_asset_run_id", "run_id"),
    )

    id: Mapped[str] = hex_id_column()
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    uploaded_from: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64))
    step_id: Mapped[str | None] = mapped_column(String(64), default=None)
    checklist_id: Mapped[str | None] = mapped_column(String(64), default=None)
    source: Mapped[str] = mapped_column(String(16), default="local")
    system: Mapped[str | None] = mapped_column(String(64), default=None)
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("run.id", ondelete="SET NULL"), default=None
    )
    uploaded_by: Mapped[int | None] = mapped_column(default=None)
    uploaded_by_guest: Mapped[int | None] = mapped_column(default=None)
    uploaded_at: Mapped[datetime] = now_column()
    archived_at: Mapped[datetime | None] = mapped_column(default=None)
