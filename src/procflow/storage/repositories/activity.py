"""Reading the activity trail."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, Select, bindparam, func, insert, select
from sqlalchemy.orm import Session

from procflow.storage.database import Bind, connection_of
from procflow.storage.models import Activity, Membership, Run, User
from procflow.storage.postgresql import driver as pg_driver
from procflow.storage.repositories import runs as run_repo
from procflow.storage.repositories.run_read_sql import table
from procflow.storage.sqlite import driver


@dataclass(frozen=True)
class ActivityFilter:
    """What a feed request narrows to; `None` means no restriction."""

    object_type: str | None = None
    object_id: str | None = None
    run_id: str | None = None
    verb: str | None = None
    actor_type: str | None = None
    actor_id: int | None = None
    field: str | None = None
    after: datetime | None = None
    before: datetime | None = None
    readable_by: int | None = None
    actor_email: str | None = None
    search: str | None = None


_APPEND = insert(Activity)


_COLUMNS = tuple(c for c in table(Activity).c if c.name != "id")
_NAMES = tuple(c.name for c in _COLUMNS)
_EVERY_COLUMN = frozenset(_NAMES)
_MOST_ROWS_IN_ONE_STATEMENT = 16


def append(bind: Bind, rows: list[dict[str, Any]]) -> None:
    """Insert records straight away, in call order, without ORM bookkeeping.

    Rows that name every column go straight to the driver: on SQLite in one executemany
    (`sqlite.driver`), on PostgreSQL, up to 16 of them, as one multi-row INSERT
    (`postgresql.driver`), which costs less than psycopg's pipelined executemany."""
    if not rows:
        return
    connection = connection_of(bind)
    if not _name_every_column(rows):
        connection.execute(_APPEND, rows)
    elif connection.dialect.name == "sqlite":
        driver.insert_rows(connection, "activity", _COLUMNS, rows)
    elif len(rows) <= _MOST_ROWS_IN_ONE_STATEMENT:
        count = len(rows)
        statement = pg_driver.compiled(connection, ("activity", count), lambda: _rows(count))
        pg_driver.execute(connection, statement, _row_params(rows))
    else:
        connection.execute(_APPEND, rows)


def append_to_run_update(
    connection: Connection, run_id: str, values: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    """Write changed columns of one run (`runs.write`) and `append` its records.

    On PostgreSQL, when the records go straight to the driver, the two are one statement
    (the UPDATE in a WITH clause of the INSERT): one round trip instead of two."""
    direct = 0 < len(rows) <= _MOST_ROWS_IN_ONE_STATEMENT and _name_every_column(rows)
    if connection.dialect.name != "postgresql" or not direct:
        run_repo.write(connection, run_id, values)
        append(connection, rows)
        return
    names, count = tuple(values), len(rows)

    def build() -> Insert:
        return _rows(count).add_cte(run_repo.update_of(names).cte("run_written"))

    statement = pg_driver.compiled(connection, ("run_update_records", count, names), build)
    pg_driver.execute(connection, statement, {**_row_params(rows), **values, "run_id_": run_id})


def _name_every_column(rows: list[dict[str, Any]]) -> bool:
    """Whether the rows can go straight to the driver, which binds every column."""
    return all(row.keys() >= _EVERY_COLUMN for row in rows)


def _row_params(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {f"{name}_{i}": row[name] for i, row in enumerate(rows) for name in _NAMES}


def _rows(count: int) -> Insert:
    """An INSERT of `count` rows, each naming every column, as `name_i` parameters."""
    return insert(Activity).values(
        [{c.name: bindparam(f"{c.name}_{i}", type_=c.type) for c in _COLUMNS} for i in range(count)]
    )


def _query(org_id: str, where: ActivityFilter) -> Select[Activity]:
    query = select(Activity).where(Activity.org_id == org_id)
    for column, value in (
        (Activity.object_type, where.object_type),
        (Activity.object_id, where.object_id),
        (Activity.run_id, where.run_id),
        (Activity.verb, where.verb),
        (Activity.actor_type, where.actor_type),
        (Activity.actor_id, where.actor_id),
        (Activity.field, where.field),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.object_type is not None and where.object_type != "run":
        # Says again what `object_type == ...` implies, in the words of the partial
        # index on (object_type, object_id), so that the planner may use it.
        query = query.where(Activity.object_type != "run")
    if where.after is not None:
        query = query.where(Activity.created_at >= where.after)
    if where.before is not None:
        query = query.where(Activity.created_at < where.before)
    if where.actor_email is not None:
        members = select(User.id).where(User.email == where.actor_email)
        query = query.where(Activity.actor_type == "member", Activity.actor_id.in_(members))
    if where.search:
        needle = where.search.lower()
        query = query.where(
            func.lower(func.coalesce(Activity.description, "")).contains(needle, autoescape=True)
            | func.lower(func.coalesce(Activity.field, "")).contains(needle, autoescape=True)
        )
    if where.readable_by is not None:
        readable = select(Run.id).where(Run.org_id == org_id, run_repo.involving(where.readable_by))
        query = query.where(Activity.run_id.in_(readable))
    return query


def page(
    session: Session,
    org_id: str,
    where: ActivityFilter,
    *,
    newest_first: bool,
    offset: int,
    limit: int | None,
) -> tuple[list[Activity], int]:
    query = _query(org_id, where)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    order = Activity.id.desc() if newest_first else Activity.id.asc()
    return list(session.scalars(query.order_by(order).offset(offset).limit(limit))), total


def actors_by_id(
    session: Session, org_id: str, user_ids: set[int]
) -> dict[int, tuple[User, Membership | None]]:
    """The people behind `user_ids`, each with their profile in `org_id` (none if they
    are no longer a member)."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(User, Membership)
        .outerjoin(Membership, (Membership.user_id == User.id) & (Membership.org_id == org_id))
        .where(User.id.in_(user_ids))
    )
    return {user.id: (user, membership) for user, membership in rows}
