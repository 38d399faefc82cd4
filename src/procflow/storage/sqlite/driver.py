"""Statements straight on the SQLite driver's cursor, with SQLAlchemy's own conversions.

Through SQLAlchemy every statement pays 40-60 µs of Core bookkeeping on top of the 5-15 µs
SQLite needs; the run update's statements go to the cursor of the transaction's own
connection instead, inside the same transaction. Values are converted by the columns'
own SQLAlchemy type processors (`Codecs`), so what is read and written is exactly what the
Core path reads and writes; the few processors that cost more than the statement get a
faster equivalent for the common case (tested value for value against SQLAlchemy's).
Driver errors are re-raised as SQLAlchemy's, so a failing statement maps to 503 like any
other.
"""

import json
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import JSON, Column, Connection, DateTime, Dialect
from sqlalchemy import exc as sa_exc

Processor = Callable[[Any], Any]


def execute(connection: Connection, sql: str, params: Any, *, many: bool = False) -> Any:
    """Run `sql` on the connection's driver cursor; the cursor, for its rows."""
    dbapi_connection = cast(sqlite3.Connection, connection.connection.dbapi_connection)
    cursor = dbapi_connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except sqlite3.Error as error:
        raise sa_exc.DBAPIError.instance(sql, params, error, sqlite3.Error) from error
    return cursor


def datetime_reader(fallback: Processor) -> Processor:
    """SQLAlchemy's SQLite DATETIME reader, with the C parser for the layout it writes
    (`YYYY-MM-DD HH:MM:SS.ffffff`): the regular expression costs more than the query."""

    def read(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is str and len(value) == 26 and value[10] == " ":
            return datetime.fromisoformat(value)
        return fallback(value)

    return read


def datetime_writer(fallback: Processor) -> Processor:
    """SQLAlchemy's SQLite DATETIME writer, by `isoformat` for naive datetimes: the same
    text (`YYYY-MM-DD HH:MM:SS.ffffff`) without its format-string formatting."""

    def write(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return fallback(value)

    return write


_JSON_SCALARS = frozenset({str, int, float, bool})
_LONG_NUMBER = re.compile(r"\d{19}")


def json_writer(fallback: Processor) -> Processor:
    """SQLAlchemy's JSON writer, straight to `json.dumps` for strings, numbers and
    booleans (what it does for them after its checks for SQL NULL)."""

    def write(value: Any) -> Any:
        if type(value) in _JSON_SCALARS:
            return json.dumps(value)
        return fallback(value)

    return write


def json_reader(fallback: Processor) -> Processor:
    """SQLAlchemy's JSON reader (`json.loads`), by orjson where the two agree.

    orjson refuses what `json.loads` accepts beyond JSON (NaN, lone surrogates): the
    fallback reads those. It also reads integers outside its 64-bit range as floats, and
    that starts at 19 digits (-9223372036854775809), so text with nineteen digits in a row
    goes to the fallback too."""

    def read(value: Any) -> Any:
        if type(value) is str and (len(value) < 19 or _LONG_NUMBER.search(value) is None):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return fallback(value)

    return read


class Codecs:
    """The columns' SQLAlchemy processors for one SQLite dialect, looked up once each."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._results: dict[Column[Any], Processor | None] = {}
        self._binds: dict[Column[Any], Processor | None] = {}
        self._sets: dict[tuple[str, tuple[Column[Any], ...]], list[tuple[int, Processor]]] = {}
        self.statements: dict[Any, str] = {}
        """Statements built from their parts once, by whatever key their builder likes."""

    def result(self, column: Column[Any]) -> Processor | None:
        if column not in self._results:
            dialect = self.dialect
            found: Processor | None = column.type.dialect_impl(dialect).result_processor(
                dialect, None
            )
            if isinstance(column.type, DateTime) and found is not None:
                found = datetime_reader(found)
            elif isinstance(column.type, JSON) and found is not None:
                found = json_reader(found)
            self._results[column] = found
        return self._results[column]

    def bind(self, column: Column[Any]) -> Processor | None:
        if column not in self._binds:
            dialect = self.dialect
            found: Processor | None = column.type.dialect_impl(dialect).bind_processor(dialect)
            if isinstance(column.type, DateTime) and found is not None:
                found = datetime_writer(found)
            elif (
                isinstance(column.type, JSON)
                and found is not None
                and getattr(dialect, "_json_serializer", None) is None
            ):
                found = json_writer(found)
            self._binds[column] = found
        return self._binds[column]

    def results(self, columns: Sequence[Column[Any]]) -> list[tuple[int, Processor]]:
        """(position, processor) of the columns that have one: most need none."""
        key = ("result", tuple(columns))
        if key not in self._sets:
            self._sets[key] = _only_set([self.result(c) for c in columns])
        return self._sets[key]

    def binds(self, columns: Sequence[Column[Any]]) -> list[tuple[int, Processor]]:
        key = ("bind", tuple(columns))
        if key not in self._sets:
            self._sets[key] = _only_set([self.bind(c) for c in columns])
        return self._sets[key]


def _only_set(processors: Sequence[Processor | None]) -> list[tuple[int, Processor]]:
    return [(index, p) for index, p in enumerate(processors) if p is not None]


def convert(values: Sequence[Any], processors: Sequence[tuple[int, Processor]]) -> list[Any]:
    converted = list(values)
    for index, processor in processors:
        converted[index] = processor(converted[index])
    return converted


_codecs: dict[Dialect, Codecs] = {}


def codecs_for(connection: Connection) -> Codecs:
    dialect = connection.dialect
    codecs = _codecs.get(dialect)
    if codecs is None:
        codecs = _codecs[dialect] = Codecs(dialect)
    return codecs


def update_row(
    connection: Connection,
    table: str,
    columns: Mapping[str, Column[Any]],
    key: Any,
    values: Mapping[str, Any],
) -> None:
    """UPDATE the given columns of the row whose `id` is `key`."""
    codecs = codecs_for(connection)
    names = tuple(values)
    sql = codecs.statements.get((table, names))
    if sql is None:
        sets = ", ".join(f'"{name}" = ?' for name in names)
        sql = codecs.statements[(table, names)] = f"UPDATE {table} SET {sets} WHERE id = ?"
    params = [
        value if (processor := codecs.bind(columns[name])) is None else processor(value)
        for name, value in values.items()
    ]
    execute(connection, sql, (*params, key))


def insert_rows(
    connection: Connection,
    table: str,
    columns: Sequence[Column[Any]],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """INSERT rows naming every one of `columns`, in order, in one executemany."""
    codecs = codecs_for(connection)
    names = tuple(c.name for c in columns)
    sql = codecs.statements.get((table, "insert", names))
    if sql is None:
        sql = codecs.statements[(table, "insert", names)] = (
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        )
    binds = codecs.binds(columns)
    params = [convert([row[name] for name in names], binds) for row in rows]
    execute(connection, sql, params, many=True)
