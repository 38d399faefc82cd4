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
    """A person: the e-mail they sign in with and their tokens, shared by every organization
    they belong to. What an organization sees of them is on their `Membership`."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    created_at: Mapped[datetime] = now_column()


class Membership(Base):
    """A person in one organization: their profile there (names, time zone), role and state.

    Each organization keeps its own, so that no organization reads or changes what another
    one sees of a person they share.
    """

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("org_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    first_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    last_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
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
