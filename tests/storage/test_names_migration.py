"""Migration 0006: tag titles and group names become unique ignoring case in the database.

Duplicates that existed before are kept and renamed (the oldest keeps its name), the
links to them survive (on SQLite the column is added in place, so no table is rebuilt
and nothing cascades), and the runs that show a renamed tag get a new version.
"""

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from procflow.settings import Settings
from procflow.storage.database import make_engine
from procflow.storage.migrate import downgrade, upgrade
from tests.conftest import PG_ADMIN_URL

BEFORE = "0005"
T0 = datetime(2026, 1, 1)


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[Engine]:
    """A database of its own, migrated up to the revision before 0006."""
    admin = None
    if os.environ.get("PROCFLOW_TEST_DB", "sqlite") == "postgres":
        name = f"procflow_names_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(Settings(database_url=url))
    upgrade(engine, BEFORE)
    try:
        yield engine
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            admin.dispose()


def insert(engine: Engine, table: str, **values: Any) -> None:
    if engine.dialect.name == "sqlite":
        # as SQLAlchemy's DateTime stores them: sqlite3's own adapter is deprecated (3.12)
        values = {
            key: value.isoformat(" ", "microseconds") if isinstance(value, datetime) else value
            for key, value in values.items()
        }
    columns = ", ".join(values)
    marks = ", ".join(f":{key}" for key in values)
    with engine.begin() as connection:
        connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), values)


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def seed(engine: Engine) -> None:
    """Two organizations; the first holds names that differ only in case."""
    for org in ("org1", "org2"):
        insert(
            engine,
            "organization",
            id=org,
            name=org,
            run_seq=0,
            checklist_seq=0,
            task_seq=0,
            created_at=T0,
        )
    insert(engine, "user_account", id=1, email="a@x.example", created_at=T0)
    tags = [
        ("t1", "org1", "Urgent", 1),
        ("t2", "org1", "urgent", 2),
        ("t3", "org1", "Urgent (2)", 3),
        ("t4", "org1", "URGENT", 4),
        ("t5", "org1", "A thirty characters long title", 5),
        ("t6", "org1", "a THIRTY characters long title", 6),
        ("t7", "org2", "urgent", 7),
    ]
    for tag_id, org, title, minute in tags:
        insert(engine, "tag", id=tag_id, org_id=org, title=title, color=None,
               auto_generated=False, created_at=T0.replace(minute=minute))  # fmt: skip
    for group_id, name, minute in (("g1", "Team", 1), ("g2", "TEAM", 2)):
        insert(engine, "member_group", id=group_id, org_id="org1", name=name,
               created_at=T0.replace(minute=minute), last_updated=T0)  # fmt: skip
    insert(engine, "run", id="r1", org_id="org1", increment_id=1, name="Run", status="active",
           type="procedure", owner_id=1, started_by=1, starred=False, is_public=False,
           prevent_guest_comment=False, created_at=T0, started_at=T0, last_updated=T0,
           version=1)  # fmt: skip
    for link_id, tag_id in ((1, "t2"), (2, "t1")):
        insert(engine, "tag_link", id=link_id, tag_id=tag_id, run_id="r1", tag_type="private",
               created_at=T0)  # fmt: skip


def test_duplicates_are_renamed_and_keep_their_links(old_database: Engine) -> None:
    seed(old_database)
    upgrade(old_database)
    assert rows(old_database, "SELECT id, title, title_key FROM tag ORDER BY id") == [
        ("t1", "Urgent", "urgent"),
        ("t2", "urgent (3)", "urgent (3)"),
        ("t3", "Urgent (2)", "urgent (2)"),
        ("t4", "URGENT (4)", "urgent (4)"),
        ("t5", "A thirty characters long title", "a thirty characters long title"),
        ("t6", "a THIRTY characters long t (2)", "a thirty characters long t (2)"),
        ("t7", "urgent", "urgent"),
    ]
    assert rows(old_database, "SELECT id, name, name_key FROM member_group ORDER BY id") == [
        ("g1", "Team", "team"),
        ("g2", "TEAM (2)", "team (2)"),
    ]
    assert rows(old_database, "SELECT id, tag_id FROM tag_link ORDER BY id") == [
        (1, "t2"),
        (2, "t1"),
    ]
    assert rows(old_database, "SELECT version FROM run") == [(2,)]


def test_the_database_then_refuses_a_name_that_differs_only_in_case(
    old_database: Engine,
) -> None:
    seed(old_database)
    upgrade(old_database)
    with pytest.raises(IntegrityError):
        insert(old_database, "tag", id="t8", org_id="org1", title="uRGENT", title_key="urgent",
               color=None, auto_generated=False, created_at=T0)  # fmt: skip


def test_the_migration_goes_down_and_up_again(old_database: Engine) -> None:
    seed(old_database)
    upgrade(old_database)
    downgrade(old_database, BEFORE)
    assert "title_key" not in {c["name"] for c in inspect(old_database).get_columns("tag")}
    upgrade(old_database)
    assert rows(old_database, "SELECT count(*) FROM tag WHERE title_key = ''") == [(0,)]
