"""The one reader of a run and its lists (`run_read_sql`'s statement), typed.

On SQLite the statement goes straight to the driver (`storage.sqlite.driver`), its values
converted by the columns' own processors; on PostgreSQL it goes through SQLAlchemy, and
only timestamps, which JSON carries as ISO text, need parsing back. Either way the result
is the same `RunRow` and `RunLists`, value for value and type for type (tested against
the ORM's view of the same rows on both databases).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Column, Connection, DateTime, Dialect, bindparam, select, text

from procflow.domain.runs import TaskFacts
from procflow.storage.models import Run
from procflow.storage.postgresql import driver as pg_driver
from procflow.storage.repositories import run_read_sql as sql
from procflow.storage.repositories.run_rows import FieldRow, FolderRow, RunLists, RunRow, TagRow
from procflow.storage.sqlite import driver

_RUN_TABLE = sql.table(Run)
_RUN_ROW = (
    select(*sql.RUN_COLUMNS)
    .where(_RUN_TABLE.c.id == bindparam("run_id"), _RUN_TABLE.c.org_id == bindparam("org_id"))
    .with_for_update()
)


def read_locked(
    connection: Connection, org_id: str, run_id: str, *, with_captures: bool = False
) -> tuple[RunRow, RunLists] | None:
    """The run (if the organization has it) and its lists, its row locked until commit
    (PostgreSQL `FOR UPDATE`; a SQLite writer already holds the database lock), so that
    a concurrent writer cannot pass the same `If-Match` or bump `version` from the same
    value. One statement on SQLite, two on PostgreSQL."""
    params = {"run_id": run_id, "org_id": org_id}
    if connection.dialect.name == "sqlite":
        statement = sql.sqlite_run_and_lists(with_captures)
        row = driver.execute(connection, statement, params).fetchone()
        if row is None:
            return None
        decoders = _sqlite_decoders(connection)
        width = len(sql.RUN_COLUMNS)
        run = RunRow(*driver.convert(row[:width], decoders.run))
        return run, _sqlite_lists(decoders, row[width:])
    locked = pg_driver.compiled(connection, "run_locked", lambda: _RUN_ROW)
    found = pg_driver.execute(connection, locked, params).fetchone()
    if found is None:
        return None
    return RunRow(*found), read_lists(connection, run_id, with_captures=with_captures)


def read_lists(connection: Connection, run_id: str, *, with_captures: bool = False) -> RunLists:
    """The lists of a run already read; form fields are kick-off ones only unless
    `with_captures`."""
    dialect = connection.dialect.name
    statement = sql.lists_only(dialect, with_captures)
    if dialect == "sqlite":
        row = driver.execute(connection, statement, {"run_id": run_id}).fetchone()
        return _sqlite_lists(_sqlite_decoders(connection), row)
    lists = pg_driver.compiled(connection, ("run_lists", statement), lambda: text(statement))
    return _postgresql_lists(pg_driver.execute(connection, lists, {"run_id": run_id}).fetchone())


class _SqliteDecoders:
    def __init__(self, codecs: driver.Codecs) -> None:
        self.run = codecs.results(sql.RUN_COLUMNS)
        self.lists = [codecs.results([c for _, c in listed.columns]) for listed in sql.LISTS]


_decoders: dict[Dialect, _SqliteDecoders] = {}


def _sqlite_decoders(connection: Connection) -> _SqliteDecoders:
    found = _decoders.get(connection.dialect)
    if found is None:
        found = _decoders[connection.dialect] = _SqliteDecoders(driver.codecs_for(connection))
    return found


def _sqlite_lists(decoders: _SqliteDecoders, texts: Sequence[str]) -> RunLists:
    decoded: list[list[Any]] = []
    for listed, processors, raw in zip(sql.LISTS, decoders.lists, texts, strict=True):
        items = orjson.loads(raw)
        if listed.scalar or not processors:
            decoded.append(items)
        else:
            decoded.append([driver.convert(item, processors) for item in items])
    return _typed(decoded)


def _time_positions(columns: Sequence[tuple[str, Column[Any]]]) -> list[int]:
    return [i for i, (_, column) in enumerate(columns) if isinstance(column.type, DateTime)]


_PG_TIMES = [_time_positions(listed.columns) for listed in sql.LISTS]


def _postgresql_lists(row: Sequence[Any]) -> RunLists:
    decoded: list[list[Any]] = []
    for listed, times, items in zip(sql.LISTS, _PG_TIMES, row, strict=True):
        if listed.scalar or not times:
            decoded.append(list(items))
            continue
        for item in items:
            for index in times:
                item[index] = _time(item[index])
        decoded.append(items)
    return _typed(decoded)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _typed(decoded: list[list[Any]]) -> RunLists:
    tags, folders, users, groups, fields, facts = decoded
    return RunLists(
        tags=[(link_id, TagRow(*values)) for link_id, *values in tags],
        folders=[(link_id, FolderRow(*values)) for link_id, *values in folders],
        users=users,
        groups=groups,
        fields=[FieldRow(*values) for values in fields],
        facts=[TaskFacts(*values) for values in facts],
    )
