"""The run reader's statement, specified once and rendered for SQLite and PostgreSQL.

Read one statement each, a run's six lists cost six round trips and six passes through
SQLAlchemy on every run request. Here each list is one scalar subquery of a single
statement: a list of rows as a JSON array of arrays, a list of single values as a JSON
array (SQLite) or a typed array (PostgreSQL). On SQLite the run's own columns come in the
same statement (a writer already holds the database lock); on PostgreSQL the run's row is
read and locked first (`FOR UPDATE`) and the lists after it, so that in READ COMMITTED
they show what committed before the lock.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Column, Table

from procflow.storage.models import (
    Folder,
    FolderLink,
    Run,
    RunField,
    RunGroup,
    RunMember,
    Tag,
    TagLink,
    Task,
)


def table(model: Any) -> Table:
    found: Table = model.__table__
    return found


RUN_COLUMNS: tuple[Column[Any], ...] = tuple(table(Run).c)
FIELD_COLUMNS: tuple[Column[Any], ...] = tuple(table(RunField).c)


@dataclass(frozen=True)
class Listed:
    """One list of a run: its columns (SQL, and the column whose type each value has),
    where its rows come from, their order, and whether each row is a single value.
    `unless_captures` narrows the rows when the caller did not ask for captures."""

    name: str
    columns: tuple[tuple[str, Column[Any]], ...]
    source: str
    order: str | None = None
    scalar: bool = False
    unless_captures: str = ""

    def where(self, with_captures: bool) -> str:
        return self.source if with_captures else self.source + self.unless_captures


def _c(model: Any, name: str, alias: str) -> tuple[str, Column[Any]]:
    return f'{alias}."{name}"', table(model).c[name]


LISTS: tuple[Listed, ...] = (
    Listed(
        "tags",
        (
            _c(TagLink, "id", "tl"),
            _c(Tag, "id", "t"),
            _c(Tag, "title", "t"),
            _c(Tag, "color", "t"),
            _c(Tag, "auto_generated", "t"),
        ),
        "tag_link tl JOIN tag t ON t.id = tl.tag_id WHERE tl.run_id = :run_id",
        "tl.id",
    ),
    Listed(
        "folders",
        (
            _c(FolderLink, "id", "fl"),
            _c(Folder, "id", "f"),
            _c(Folder, "name", "f"),
            _c(Folder, "parent_id", "f"),
        ),
        "folder_link fl JOIN folder f ON f.id = fl.folder_id WHERE fl.run_id = :run_id",
        "fl.id",
    ),
    Listed(
        "users",
        (_c(RunMember, "user_id", "m"),),
        "run_member m WHERE m.run_id = :run_id",
        "m.position, m.user_id",
        scalar=True,
    ),
    Listed(
        "groups",
        (_c(RunGroup, "group_id", "g"),),
        "run_group g WHERE g.run_id = :run_id",
        "g.position, g.group_id",
        scalar=True,
    ),
    Listed(
        "fields",
        tuple(_c(RunField, c.name, "rf") for c in FIELD_COLUMNS),
        "run_field rf WHERE rf.run_id = :run_id",
        "rf.position, rf.field_id",
        unless_captures=" AND rf.task_id IS NULL",
    ),
    Listed(
        "facts",
        (_c(Task, "status", "k"), _c(Task, "deadline", "k"), _c(Task, "has_problem", "k")),
        "task k WHERE k.run_id = :run_id AND k.archived_at IS NULL",
    ),
)


def _sqlite_list(listed: Listed, with_captures: bool) -> str:
    named = ", ".join(f"{sql} AS c{i}" for i, (sql, _) in enumerate(listed.columns))
    order = f" ORDER BY {listed.order}" if listed.order else ""
    values = ", ".join(f"c{i}" for i in range(len(listed.columns)))
    item = values if listed.scalar else f"json_array({values})"
    return (
        f"(SELECT json_group_array({item})"
        f" FROM (SELECT {named} FROM {listed.where(with_captures)}{order}))"
    )


def _postgresql_list(listed: Listed, with_captures: bool) -> str:
    values = ", ".join(sql for sql, _ in listed.columns)
    source = listed.where(with_captures)
    if listed.scalar:
        order = f" ORDER BY {listed.order}" if listed.order else ""
        return f"ARRAY(SELECT {values} FROM {source}{order})"
    order = f" ORDER BY {listed.order}" if listed.order else ""
    return f"(SELECT coalesce(json_agg(json_build_array({values}){order}), '[]') FROM {source})"


@cache
def sqlite_run_and_lists(with_captures: bool) -> str:
    """The run's columns and its lists, in one statement (`:run_id`, `:org_id`)."""
    columns = ", ".join(f'run."{c.name}"' for c in RUN_COLUMNS)
    lists = ", ".join(_sqlite_list(listed, with_captures) for listed in LISTS)
    return f"SELECT {columns}, {lists} FROM run WHERE run.id = :run_id AND run.org_id = :org_id"


@cache
def lists_only(dialect: str, with_captures: bool) -> str:
    """The run's lists alone (`:run_id`), for a run already read."""
    render = _sqlite_list if dialect == "sqlite" else _postgresql_list
    return "SELECT " + ", ".join(render(listed, with_captures) for listed in LISTS)
