"""Tags and folders, and the links that attach them to runs, templates and tasks."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from procflow.domain.names import FOLD_GROWTH, fold
from procflow.storage.models.base import Base, hex_id_column, now_column


class Tag(Base):
    """A label; its title is unique in the organization ignoring case (`title_key`)."""

    __tablename__ = "tag"
    __table_args__ = (
        UniqueConstraint("org_id", "title"),
        Index("uq_tag_org_id_title_key", "org_id", "title_key", unique=True),
    )

    id: Mapped[str] = hex_id_column()
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(30))
    title_key: Mapped[str] = mapped_column(String(30 * FOLD_GROWTH))
    color: Mapped[str | None] = mapped_column(String(7), default=None)
    auto_generated: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = now_column()

    @validates("title")
    def _keep_title_key(self, _key: str, title: str) -> str:
        self.title_key = fold(title)
        return title


class TagLink(Base):
    """One tag on one run or template; its integer id is Tallyfy's association id."""

    __tablename__ = "tag_link"
    __table_args__ = (
        UniqueConstraint("tag_id", "run_id"),
        UniqueConstraint("tag_id", "checklist_id"),
        Index("ix_tag_link_run_id", "run_id"),
        Index("ix_tag_link_checklist_id", "checklist_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tag_id: Mapped[str] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"))
    checklist_id: Mapped[str | None] = mapped_column(ForeignKey("checklist.id", ondelete="CASCADE"))
    tag_type: Mapped[str] = mapped_column(String(10), default="private")
    created_at: Mapped[datetime] = now_column()


class Folder(Base):
    __tablename__ = "folder"

    id: Mapped[str] = hex_id_column()
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("folder.id", ondelete="CASCADE"), default=None, index=True
    )
    name: Mapped[str] = mapped_column(String(250))
    folder_type: Mapped[str] = mapped_column(String(16), default="run")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = now_column()
    last_updated: Mapped[datetime] = now_column()


class FolderLink(Base):
    """One run or task filed in one folder; its integer id is Tallyfy's relation id."""

    __tablename__ = "folder_link"
    __table_args__ = (
        UniqueConstraint("folder_id", "run_id"),
        UniqueConstraint("folder_id", "task_id"),
        Index("ix_folder_link_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    folder_id: Mapped[str] = mapped_column(ForeignKey("folder.id", ondelete="CASCADE"))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = now_column()
