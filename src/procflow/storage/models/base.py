"""Declarative base with a naming convention, so migrations can name every constraint."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from procflow.domain.ids import new_id
from procflow.domain.timeutil import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


def hex_id_column() -> Mapped[str]:
    return mapped_column(String(32), primary_key=True, default=new_id)


def now_column() -> Mapped[datetime]:
    return mapped_column(default=utcnow)
