"""The run update's statements straight on psycopg (`storage.postgresql.driver`) write
what SQLAlchemy's Core path writes: the same run columns and the same activity records,
value for value and type for type, JSON nulls included."""

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, update

from procflow.storage.models import Activity, Run
from procflow.storage.postgresql import driver as pg_driver
from procflow.storage.repositories import activity
from tests.factories import World

pytestmark = pytest.mark.pg


def _records(run_id: str, field: str) -> list[dict[str, Any]]:
    values: list[tuple[Any, Any]] = [(None, "x"), ("a", None), ({"k": [1, None]}, 2.5)]
    return [
        {
            "org_id": "o" * 32,
            "actor_type": "member",
            "actor_id": 7,
            "verb": "updated",
            "object_type": "run",
            "object_id": run_id,
            "run_id": run_id,
            "field": f"{field}{i}",
            "old_value": old,
            "new_value": new,
            "description": None,
            "created_at": datetime(2026, 1, 2, 3, 4, 5, 678901),
        }
        for i, (old, new) in enumerate(values)
    ]


def _written(connection: Any, run_id: str, field: str) -> list[tuple[Any, ...]]:
    rows = connection.execute(
        select(*(c for c in Activity.__table__.c if c.name != "id"))
        .where(Activity.run_id == run_id, Activity.field.startswith(field))
        .order_by(Activity.id)
    )
    return [tuple((type(v).__name__, v) for v in row) for row in rows]


def test_the_direct_statements_write_what_core_writes(world: World, engine: Engine) -> None:
    run_id = world.launch(world.template())["id"]
    values = {"name": "Renamed", "summary": None, "starred": True, "version": 9}
    with engine.connect() as connection, connection.begin() as transaction:  # rolled back
        connection.execute(update(Run).where(Run.id == run_id).values(values))
        connection.execute(insert(Activity), _records(run_id, "core"))
        by_core = connection.execute(select(Run).where(Run.id == run_id)).one()
        core_records = _written(connection, run_id, "core")
        assert len(core_records) == 3
        connection.execute(update(Run).where(Run.id == run_id).values(name="Other", version=1))
        activity.append_to_run_update(connection, run_id, values, _records(run_id, "direct"))
        activity.append(connection, _records(run_id, "alone"))
        by_driver = connection.execute(select(Run).where(Run.id == run_id)).one()
        assert _written(connection, run_id, "direct") == [
            tuple((t, v.replace("core", "direct") if t == "str" else v) for t, v in row)
            for row in core_records
        ]
        assert _written(connection, run_id, "alone") == [
            tuple((t, v.replace("core", "alone") if t == "str" else v) for t, v in row)
            for row in core_records
        ]
        assert pg_driver.compiled(connection, ("activity", 3), lambda: insert(Activity)).direct
        transaction.rollback()  # the activity trail is append-only
    assert by_driver == by_core
