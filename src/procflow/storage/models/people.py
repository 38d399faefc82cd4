"""Guests (outsiders who take part by email) and groups of members and guests."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from procflow.domain.names import FOLD_GROWTH, fold
from procflow.storage.models.base import Base, hex_id_column, now_column


class Guest(Base):
    __tablename__ = "guest"
    __table_args__ = (UniqueConstraint("org_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = now_column()
    last_updated: Mapped[datetime] = now_column()
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)


class GuestToken(Base):
    """A guest's own access token; only its SHA-256 digest is kept."""

    __tablename__ = "guest_token"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    guest_id: Mapped[int] = mapped_column(ForeignKey("guest.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = now_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class Group(Base):
    """Its name is unique in the organization ignoring case (`name_key`)."""

    __tablename__ = "member_group"
    __table_args__ = (
        UniqueConstraint("org_id", "name"),
        Index("uq_member_group_org_id_name_key", "org_id", "name_key", unique=True),
    )

    id: Mapped[str] = hex_id_column()
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200 * FOLD_GROWTH))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    logo: Mapped[str | None] = mapped_column(String(2048), default=None)
    created_at: Mapped[datetime] = now_column()
    last_updated: Mapped[datetime] = now_column()

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        self.name_key = fold(name)
        return name


class GroupMember(Base):
    """One member or one guest of a group (exactly one of the two is set)."""

    __tablename__ = "group_member"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id"),
        UniqueConstraint("group_id", "guest_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(
        ForeignKey("member_group.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), default=None
    )
    guest_id: Mapped[int | None] = mapped_column(
        ForeignKey("guest.id", ondelete="CASCADE"), default=None
    )


class RunGroup(Base):
    """A group named in a run's `groups` list."""

    __tablename__ = "run_group"

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[str] = mapped_column(
        ForeignKey("member_group.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)
