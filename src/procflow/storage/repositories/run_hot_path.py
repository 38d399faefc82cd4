"""The run update's reads and writes on SQLite, straight on the driver's cursor.

`PUT /runs/{id}` is the hottest write of the API. Through SQLAlchemy it reads the run and
its six lists in seven statements, each paying 40-60 µs of Core bookkeeping on top of
the 5-15 µs SQLite needs. Here the run and all its lists come back in ONE statement
(each list a `json_group_array` subquery), and the UPDATE and the activity INSERT go to
the cursor of the session's own connection, inside the same transaction.

Values are converted by the columns' own SQLAlchemy type processors, so what is read and
written is exactly what the Core path reads and writes. Driver errors are re-raised as
SQLAlchemy's, so a failing statement maps to 503 like any other. PostgreSQL keeps the
Core path.
"""

import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import JSON, Column, DateTime, Table
from sqlalchemy import exc as sa_exc

from procflow.domain.runs import TaskFacts
from procflow.storage.database import Bind, connection_of
from procflow.storage.models import Activity, Run, RunField, Task

Processor = Callable[[Any], Any] | None

_RUN: Table = Run.__table__  # type: ignore[assignment]
_FIELD: Table = RunField.__table__  # type: ignore[assignment]
_TASK: Table = Task.__table__  # type: ignore[assignment]
_ACTIVITY: Table = Activity.__table__  # type: ignore[assignment]
_RUN_COLUMNS: Sequence[Column[Any]] = list(_RUN.c)
_FIELD_COLUMNS: Sequence[Column[Any]] = list(_FIELD.c)
_ACTIVITY_COLUMNS = [c.name for c in _ACTIVITY.c if c.name != "id"]


def _list(select_list: str, source: str) -> str:
    return f"(SELECT json_group_array(json_array({select_list})) FROM ({source}))"


_READ = (
    "SELECT "
    + ", ".join(f'run."{c.name}"' for c in _RUN_COLUMNS)
    + ", "
    + _list(
        "link_id, id, title, color, auto_generated",
        "SELECT tag_link.id AS link_id, tag.id AS id, tag.title AS title, tag.color AS color,"
        " tag.auto_generated AS auto_generated FROM tag_link JOIN tag ON tag.id = tag_link.tag_id"
        " WHERE tag_link.run_id = :run_id ORDER BY tag_link.id",
    )
    + ", "
    + _list(
        "link_id, id, name, parent_id",
        "SELECT folder_link.id AS link_id, folder.id AS id, folder.name AS name,"
        " folder.parent_id AS parent_id FROM folder_link JOIN folder"
        " ON folder.id = folder_link.folder_id WHERE folder_link.run_id = :run_id"
        " ORDER BY folder_link.id",
    )
    + ", (SELECT json_group_array(user_id) FROM (SELECT user_id FROM run_member"
    " WHERE run_id = :run_id ORDER BY position, user_id))"
    + ", (SELECT json_group_array(group_id) FROM (SELECT group_id FROM run_group"
    " WHERE run_id = :run_id ORDER BY position, group_id))"
    + ", "
    + _list(
        ", ".join(f'"{c.name}"' for c in _FIELD_COLUMNS),
        "SELECT * FROM run_field WHERE run_id = :run_id AND task_id IS NULL"
        " ORDER BY position, field_id",
    )
    + ", "
    + _list(
        "status, deadline, has_problem",
        "SELECT status, deadline, has_problem FROM task"
        " WHERE run_id = :run_id AND archived_at IS NULL",
    )
    + " FROM run WHERE run.id = :run_id AND run.org_id = :org_id"
)


def _datetime_reader(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLAlchemy's SQLite DATETIME reader, with the C parser for the layout it writes
    (`YYYY-MM-DD HH:MM:SS.ffffff`): the regular expression costs more than the query."""

    def read(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is str and len(value) == 26 and value[10] == " ":
            return datetime.fromisoformat(value)
        return fallback(value)

    return read


def _datetime_writer(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLAlchemy's SQLite DATETIME writer, by `isoformat` for naive datetimes: the same
    text (`YYYY-MM-DD HH:MM:SS.ffffff`) without its format-string formatting."""

    def write(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return fallback(value)

    return write


def _json_writer(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLAlchemy's JSON writer, straight to `json.dumps` for strings, numbers and
    booleans (what it does for them after its checks for SQL NULL)."""

    def write(value: Any) -> Any:
        if type(value) in _JSON_SCALARS:
            return json.dumps(value)
        return fallback(value)

    return write


_JSON_SCALARS = frozenset({str, int, float, bool})
_LONG_NUMBER = re.compile(r"\d{20}")


def _json_reader(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLAlchemy's JSON reader (`json.loads`), by orjson where the two agree.

    orjson refuses what `json.loads` accepts beyond JSON (NaN, lone surrogates): the
    fallback reads those. It also reads integers beyond 64 bits as floats, so text with
    twenty digits in a row goes to the fallback too."""

    def read(value: Any) -> Any:
        if type(value) is str and (len(value) < 20 or _LONG_NUMBER.search(value) is None):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return fallback(value)

    return read


class _Codecs:
    """The columns' SQLAlchemy processors for one dialect, looked up once."""

    def __init__(self, dialect: Any) -> None:
        def result(column: Column[Any]) -> Processor:
            processor: Processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if isinstance(column.type, DateTime) and processor is not None:
                return _datetime_reader(processor)
            if isinstance(column.type, JSON) and processor is not None:
                return _json_reader(processor)
            return processor

        def bind(column: Column[Any]) -> Processor:
            processor: Processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            if dialect.name != "sqlite" or processor is None:
                return processor
            if isinstance(column.type, DateTime):
                return _datetime_writer(processor)
            if isinstance(column.type, JSON) and dialect._json_serializer is None:
                return _json_writer(processor)
            return processor

        self.run_names = [c.name for c in _RUN_COLUMNS]
        self.run_results = _only_set([result(c) for c in _RUN_COLUMNS])
        self.field_names = [c.name for c in _FIELD_COLUMNS]
        self.field_results = _only_set([result(c) for c in _FIELD_COLUMNS])
        self.run_binds = {c.name: bind(c) for c in _RUN_COLUMNS}
        self.activity_binds = _only_set([bind(_ACTIVITY.c[name]) for name in _ACTIVITY_COLUMNS])
        self.deadline = result(_TASK.c.deadline)
        self.updates: dict[tuple[str, ...], str] = {}


_codecs: dict[Any, _Codecs] = {}


def _codecs_for(dialect: Any) -> _Codecs:
    codecs = _codecs.get(dialect)
    if codecs is None:
        codecs = _codecs[dialect] = _Codecs(dialect)
    return codecs


def applies(bind: Bind) -> bool:
    return connection_of(bind).dialect.name == "sqlite"


def _execute(bind: Bind, sql: str, params: Any, many: bool = False) -> Any:
    connection = connection_of(bind)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except connection.dialect.loaded_dbapi.Error as error:
        raise sa_exc.DBAPIError.instance(
            sql, params, error, connection.dialect.loaded_dbapi.Error
        ) from error
    return cursor


def _convert(values: Sequence[Any], processors: Sequence[tuple[int, Any]]) -> list[Any]:
    converted = list(values)
    for index, processor in processors:
        converted[index] = processor(converted[index])
    return converted


def _only_set(processors: Sequence[Processor]) -> list[tuple[int, Any]]:
    """(position, processor) of the columns that have one: most need no conversion."""
    return [(index, p) for index, p in enumerate(processors) if p is not None]


def read(bind: Bind, org_id: str, run_id: str) -> tuple[SimpleNamespace, dict[str, Any]]:
    """The run as a mutable snapshot and its lists, as `runs.bundle` shapes them, or
    `(None, {})` when there is no such run in the organization."""
    codecs = _codecs_for(connection_of(bind).dialect)
    row = _execute(bind, _READ, {"run_id": run_id, "org_id": org_id}).fetchone()
    if row is None:
        return None, {}  # type: ignore[return-value]
    width = len(codecs.run_names)
    run = SimpleNamespace()
    run.__dict__.update(
        zip(codecs.run_names, _convert(row[:width], codecs.run_results), strict=True)
    )
    tags, folders, users, groups, fields, facts = (orjson.loads(text) for text in row[width:])
    kickoff = [
        SimpleNamespace(**dict(zip(codecs.field_names, values, strict=True)))
        for values in (_field_values(codecs, f) for f in fields)
    ]
    return run, {
        "tags": [
            (link_id, SimpleNamespace(id=i, title=t, color=c, auto_generated=bool(a)))
            for link_id, i, t, c, a in tags
        ],
        "folders": [
            (link_id, SimpleNamespace(id=i, name=n, parent_id=p)) for link_id, i, n, p in folders
        ],
        "users": users,
        "groups": groups,
        "kickoff": kickoff,
        "facts": [
            TaskFacts(s, d if codecs.deadline is None else codecs.deadline(d), bool(p))
            for s, d, p in facts
        ],
    }


def _field_values(codecs: _Codecs, values: list[Any]) -> list[Any]:
    return _convert(values, codecs.field_results)


def write(bind: Bind, run_id: str, values: dict[str, Any]) -> None:
    """UPDATE the given columns of one run."""
    codecs = _codecs_for(connection_of(bind).dialect)
    names = tuple(values)
    sql = codecs.updates.get(names)
    if sql is None:
        sets = ", ".join(f'"{name}" = ?' for name in names)
        sql = codecs.updates[names] = f"UPDATE run SET {sets} WHERE id = ?"
    params = [
        value if (processor := codecs.run_binds[name]) is None else processor(value)
        for name, value in values.items()
    ]
    _execute(bind, sql, (*params, run_id))


_INSERT_ACTIVITY = (
    f"INSERT INTO activity ({', '.join(_ACTIVITY_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in _ACTIVITY_COLUMNS)})"
)


def append_activity(bind: Bind, rows: list[dict[str, Any]]) -> None:
    """INSERT activity records, in order, in one executemany."""
    binds = _codecs_for(connection_of(bind).dialect).activity_binds
    params = [_convert([row[name] for name in _ACTIVITY_COLUMNS], binds) for row in rows]
    _execute(bind, _INSERT_ACTIVITY, params, many=True)
