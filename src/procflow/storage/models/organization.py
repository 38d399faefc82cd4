"""Organizations, the people in them, and the tokens they call the API with."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from procflow.storage.models.base import Base, hex_id_column, now_column


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[str] = hex_id_column()
    name: Mapped[str] = mapped_column(String(250))
    run_seq: Mapped[int] = mapped_column(default=0)
    checklist_seq: Mapped[int] = mapped_column(default=0)
    task_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = now_column()


class User(Base):
    """A person; one user may belong to several organizations."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = now_column()


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("org_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = now_column()
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)


class AccessToken(Base):
    """A personal access token; only its SHA-256 digest is kept."""

    __tablename__ = "access_token"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = now_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
