"""A run's six lists in one PostgreSQL statement.

Read one statement each, the lists of a run cost six round trips and six passes through
SQLAlchemy on every run request. Here each list is one scalar subquery: the scalar lists
as typed arrays, the others as `json_agg` of `json_build_array` rows, which carry strings,
numbers, booleans, nulls and JSON columns as they are; only timestamps arrive as ISO text
and are parsed back. The statement runs after the run's own read (on a writer's path,
after its `FOR UPDATE` lock), so in READ COMMITTED it sees what committed before the lock.
"""

from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Column, DateTime, Table, text

from procflow.domain.runs import TaskFacts
from procflow.storage.database import Bind, connection_of
from procflow.storage.models import RunField

_FIELD: Table = RunField.__table__  # type: ignore[assignment]
_FIELD_COLUMNS: Sequence[Column[Any]] = list(_FIELD.c)
_FIELD_NAMES = [c.name for c in _FIELD_COLUMNS]
_FIELD_TIMES = [i for i, c in enumerate(_FIELD_COLUMNS) if isinstance(c.type, DateTime)]


def _rows(columns: str, source: str, order: str) -> str:
    return (
        f"(SELECT coalesce(json_agg(json_build_array({columns}) ORDER BY {order}), '[]')"
        f" FROM {source})"
    )


STATEMENT = text(
    "SELECT "
    + ", ".join(
        [
            _rows(
                "tl.id, t.id, t.title, t.color, t.auto_generated",
                "tag_link tl JOIN tag t ON t.id = tl.tag_id WHERE tl.run_id = :run_id",
                "tl.id",
            ),
            _rows(
                "fl.id, f.id, f.name, f.parent_id",
                "folder_link fl JOIN folder f ON f.id = fl.folder_id WHERE fl.run_id = :run_id",
                "fl.id",
            ),
            "ARRAY(SELECT user_id FROM run_member WHERE run_id = :run_id"
            " ORDER BY position, user_id)",
            "ARRAY(SELECT group_id FROM run_group WHERE run_id = :run_id"
            " ORDER BY position, group_id)",
            _rows(
                ", ".join(f'rf."{name}"' for name in _FIELD_NAMES),
                "run_field rf WHERE rf.run_id = :run_id",
                "rf.position, rf.field_id",
            ),
            _rows(
                "k.status, k.deadline, k.has_problem",
                "task k WHERE k.run_id = :run_id AND k.archived_at IS NULL",
                "k.position, k.id",
            ),
        ]
    )
)


def applies(bind: Bind) -> bool:
    return connection_of(bind).dialect.name == "postgresql"


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _field(values: list[Any]) -> SimpleNamespace:
    for index in _FIELD_TIMES:
        values[index] = _time(values[index])
    return SimpleNamespace(**dict(zip(_FIELD_NAMES, values, strict=True)))


def read(bind: Bind, run_id: str) -> dict[str, Any]:
    """`tags`, `folders`, `users`, `groups`, `fields` (kick-off and captures, in position
    order) and `facts`, shaped as `runs.bundle` keeps them."""
    tags, folders, users, groups, fields, facts = (
        connection_of(bind).execute(STATEMENT, {"run_id": run_id}).one()
    )
    return {
        "tags": [
            (link_id, SimpleNamespace(id=i, title=t, color=c, auto_generated=a))
            for link_id, i, t, c, a in tags
        ],
        "folders": [
            (link_id, SimpleNamespace(id=i, name=n, parent_id=p)) for link_id, i, n, p in folders
        ],
        "users": list(users),
        "groups": list(groups),
        "fields": [_field(values) for values in fields],
        "facts": [TaskFacts(s, _time(d), h) for s, d, h in facts],
    }
