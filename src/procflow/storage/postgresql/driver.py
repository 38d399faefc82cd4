"""The run update's statements straight on psycopg's cursor, compiled by SQLAlchemy once.

Through `Connection.execute` each statement pays SQLAlchemy's per-execution bookkeeping
(cache key, execution context, result metadata from a `description` that psycopg builds
column by column) on top of psycopg's own work: on the run PUT, with its four
statements, more CPU than the rest of the request. Here a Core statement is compiled for
the connection's dialect once (the SQL text SQLAlchemy itself would send, casts and all)
and then runs on the cursor of the transaction's connection, inside the same
transaction, its parameters converted by the compiled statement's own bind processors:
what is written and read is what the Core path writes and reads. Only for statements
whose columns need no result processing on this dialect (checked when compiled);
others, and drivers other than psycopg, go through `Connection.execute`. Driver errors are
re-raised as SQLAlchemy's, a dropped connection marked as such, so that a failing
statement maps to 503 like any other; listeners of the engine's cursor events (SQL
counters, tests) still see every statement, without an execution context.
"""

from collections.abc import Callable, Hashable, Mapping
from typing import Any, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy import exc as sa_exc
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


class Compiled:
    """One statement's SQL text for a dialect and the bind processors of its parameters."""

    def __init__(self, statement: Executable, dialect: Dialect, keys: list[str] | None):
        assert isinstance(statement, ClauseElement)
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=keys))
        self.statement = statement
        self.sql = compiled.string
        processors = compiled._bind_processors.items()
        self.binds = [(name, p) for name, p in processors if callable(p)]
        self.direct = (
            dialect.driver == "psycopg"
            and len(self.binds) == len(processors)  # no tuple parameters
            and not any(
                column.type._cached_result_processor(dialect, None) is not None
                for column in compiled._result_columns or ()
            )
        )


_compiled: dict[tuple[Dialect, Hashable], Compiled] = {}


def compiled(
    connection: Connection,
    key: Hashable,
    build: Callable[[], Executable],
    keys: list[str] | None = None,
) -> Compiled:
    """The statement `build` makes, compiled once per dialect and `key`."""
    found = _compiled.get((connection.dialect, key))
    if found is None:
        found = _compiled[(connection.dialect, key)] = Compiled(build(), connection.dialect, keys)
    return found


def execute(connection: Connection, statement: Compiled, params: Mapping[str, Any]) -> Any:
    """Run `statement` in the connection's transaction; the driver cursor, for its rows
    (or SQLAlchemy's result, where the statement may not go straight to the driver)."""
    if not statement.direct:
        return connection.execute(statement.statement, params)
    if statement.binds:
        params = dict(params)
        for name, processor in statement.binds:
            if name in params:
                params[name] = processor(params[name])
    if not connection.in_transaction():
        connection.begin()  # as `Connection.execute` autobegins
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    cursor = dbapi_connection.cursor()
    observed = connection._has_events or connection.engine._has_events
    if observed:  # what listeners of `Connection.execute`'s statements see, save a context
        connection.dispatch.before_cursor_execute(
            connection, cursor, statement.sql, params, None, False
        )
    try:
        cursor.execute(statement.sql, params)
    except connection.dialect.loaded_dbapi.Error as error:
        dropped = connection.dialect.is_disconnect(error, dbapi_connection, cursor)
        if dropped:
            connection.invalidate(error)
        raise sa_exc.DBAPIError.instance(
            statement.sql,
            params,
            error,
            connection.dialect.loaded_dbapi.Error,
            connection_invalidated=dropped,
            dialect=connection.dialect,
        ) from error
    if observed:
        connection.dispatch.after_cursor_execute(
            connection, cursor, statement.sql, params, None, False
        )
    return cursor
