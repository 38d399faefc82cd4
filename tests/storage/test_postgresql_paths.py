"""The run update's PostgreSQL statements, also run from the SQLite phase of scripts/test.

The coverage floor is measured in the SQLite phase, where the PostgreSQL-only code (the
run update's statements sent straight to psycopg, the locked read, the activity records in
one statement with the UPDATE) would otherwise count as untested although the PostgreSQL
phase runs every run-update test on it. These tests make their own PostgreSQL database, so
they run in whichever phase collects them (the PostgreSQL phase leaves them to the SQLite
one), and are skipped where no PostgreSQL server answers.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from procflow.api.app import create_app
from procflow.sandbox import snapshots
from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from procflow.storage.database import make_engine, make_session_factory
from procflow.storage.migrate import upgrade
from procflow.storage.models import Activity, Run
from tests.conftest import PG_ADMIN_URL
from tests.factories import World
from tests.stress.harness import fresh_database


def _postgres_answers() -> bool:
    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def pg_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Engine]]:
    if not _postgres_answers():
        pytest.skip("no PostgreSQL server at PROCFLOW_TEST_PG_URL")
    with fresh_database("postgres", tmp_path_factory.mktemp("pg")) as url:
        settings = Settings(database_url=url, auth_cache_seconds=0)
        engine = make_engine(settings)
        upgrade(engine)
        try:
            yield settings, engine
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def pg_world(pg_engine: tuple[Settings, Engine]) -> Iterator[World]:
    settings, engine = pg_engine
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield World.create(make_session_factory(engine), client)


def _put(world: World, run_id: str, body: dict[str, Any], **headers: str) -> Any:
    return world.call("PUT", f"/runs/{run_id}", json=body, headers=headers)


def test_a_run_update_on_postgresql_writes_its_fields_and_their_records(pg_world: World) -> None:
    world = pg_world
    kickoff = [{"field_type": "text", "label": "Client"}]
    run = world.launch(world.template(kickoff=kickoff, steps=[{"title": "A"}, {"title": "B"}]))
    tag, folder = world.tag("urgent"), world.folder("Clients")
    body = {"name": "Renamed", "summary": "Notes", "tags": [tag], "folders": [folder]}
    response = _put(world, run["id"], body)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["name"], data["summary"], data["tags"]) == ("Renamed", "Notes", [tag])
    assert data["folders"] == [folder]
    got = world.call("GET", f"/runs/{run['id']}")
    assert got.json() == response.json()
    assert got.headers["etag"] == response.headers["etag"]
    with UnitOfWork(world.factory, write=False) as uow:
        fields = uow.session.scalars(
            select(Activity.field).where(Activity.run_id == run["id"], Activity.verb == "updated")
        ).all()
    assert {"name", "summary"} <= set(fields)


def test_a_stale_if_match_on_postgresql_changes_nothing(pg_world: World) -> None:
    world = pg_world
    run = world.launch(world.template())
    first = _put(world, run["id"], {"name": "One"})
    etag = first.headers["etag"]
    assert _put(world, run["id"], {"name": "Two"}, **{"If-Match": etag}).status_code == 200
    stale = _put(world, run["id"], {"name": "Three"}, **{"If-Match": etag})
    assert stale.status_code == 412, stale.text
    assert world.call("GET", f"/runs/{run['id']}").json()["data"]["name"] == "Two"


def test_many_changed_fields_on_postgresql_are_one_record_each(pg_world: World) -> None:
    world = pg_world
    run = world.launch(world.template())
    for round_ in range(3):
        body = {"name": f"Name {round_}", "summary": f"Summary {round_}"}
        assert _put(world, run["id"], body).status_code == 200
    with UnitOfWork(world.factory, write=False) as uow:
        records = uow.session.scalars(
            select(Activity.new_value).where(
                Activity.run_id == run["id"], Activity.field == "summary"
            )
        ).all()
    assert [r for r in records if r] == [f"Summary {i}" for i in range(3)]


def test_a_sandbox_snapshot_of_postgresql_puts_every_row_back(
    pg_world: World, pg_engine: tuple[Settings, Engine]
) -> None:
    """The sandbox's snapshot on PostgreSQL: rows copied, then truncated and put back with
    the append-only guards off for the restore only, and the id sequences moved on."""
    world, (_, engine) = pg_world, pg_engine
    kept = world.launch(world.template())
    snapshot = snapshots.take(engine)
    assert isinstance(snapshot, snapshots.RowSnapshot)
    later = world.launch(world.template())
    assert _put(world, kept["id"], {"name": "After the snapshot"}).status_code == 200
    snapshot.restore(engine)
    with UnitOfWork(world.factory, write=False) as uow:
        ids = set(uow.session.scalars(select(Run.id)))
        newest_record = uow.session.scalar(select(func.max(Activity.id)))
    assert kept["id"] in ids
    assert later["id"] not in ids
    assert world.call("GET", f"/runs/{kept['id']}").json()["data"]["name"] == kept["name"]
    assert _put(world, kept["id"], {"name": "Written again"}).status_code == 200
    with UnitOfWork(world.factory, write=False) as uow:
        newest_now = uow.session.scalar(select(func.max(Activity.id)))
    assert (newest_now or 0) > (newest_record or 0)


def test_the_module_is_left_to_the_sqlite_phase(tmp_path: Path) -> None:
    from tests.conftest import ONE_DATABASE

    assert "tests/storage/test_postgresql_paths.py" in ONE_DATABASE
