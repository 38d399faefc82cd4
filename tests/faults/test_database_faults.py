"""Database faults become 503 with `Retry-After`, roll everything back, and pass.

Faults are real: another connection holds the write lock, PostgreSQL drops the server's
connections, or a statement fails inside the driver (an `OperationalError` raised from
the engine's own execute hook, at each statement of a write in turn).
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, exc, text

from procflow.api.app import create_app
from procflow.settings import Settings
from tests.factories import World

ON_POSTGRES = os.environ.get("PROCFLOW_TEST_DB", "sqlite") == "postgres"


@pytest.fixture
def quick_app(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """An app that gives up on a held lock after 200 ms."""
    app = create_app(settings.model_copy(update={"lock_timeout_ms": 200}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["error"] is True
    assert body["code"] == "SERVICE_UNAVAILABLE"
    assert set(body) == {"error", "message", "code"}


def test_a_held_write_lock_is_503_and_nothing_changes(
    world: World, settings: Settings, quick_app: TestClient
) -> None:
    run = world.launch(world.template())
    url = world.url(f"/runs/{run['id']}")
    other = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    with other.connect() as conn:
        if ON_POSTGRES:
            conn.execute(text("BEGIN"))
            conn.execute(text("SELECT 1 FROM run WHERE id = :id FOR UPDATE"), {"id": run["id"]})
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        response = quick_app.put(url, json={"name": "blocked"}, headers=world.admin.headers)
        _assert_unavailable(response)
        conn.execute(text("ROLLBACK"))
    other.dispose()
    after = quick_app.get(url, headers=world.admin.headers).json()["data"]
    assert after["name"] == run["name"]
    ok = quick_app.put(url, json={"name": "free again"}, headers=world.admin.headers)
    assert ok.status_code == 200
    assert ok.json()["data"]["name"] == "free again"


@pytest.mark.pg  # dropping server connections is a PostgreSQL fault
def test_dropped_postgres_connections_are_503_then_recover(
    world: World, settings: Settings
) -> None:
    app = create_app(settings)
    pids: list[int] = []
    event.listen(
        app.state.engine,
        "connect",
        lambda dbapi, _record: pids.append(dbapi.execute("SELECT pg_backend_pid()").fetchone()[0]),
    )
    run = world.launch(world.template())
    url = world.url(f"/runs/{run['id']}")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(url, headers=world.admin.headers).status_code == 200
        assert pids
        killer = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
        with killer.connect() as conn:
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()
        statuses = []
        for attempt in range(3):
            response = client.put(url, json={"name": f"try {attempt}"}, headers=world.admin.headers)
            statuses.append(response.status_code)
            if response.status_code == 503:
                _assert_unavailable(response)
        assert statuses[-1] == 200, statuses
        assert all(code in (200, 503) for code in statuses), statuses


def _fail_at(engine: Engine, nth: int) -> Any:
    """Make the nth statement after arming raise a driver error, once."""
    seen = {"count": 0}

    def before_execute(*_args: Any) -> None:
        seen["count"] += 1
        if seen["count"] == nth:
            raise exc.OperationalError("injected", {}, Exception("disk I/O error"))

    event.listen(engine, "before_cursor_execute", before_execute)
    return before_execute


def _statements_of(engine: Engine, call: Any) -> int:
    seen = {"count": 0}

    def count(*_args: Any) -> None:
        seen["count"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen["count"]


def test_a_failing_statement_anywhere_in_a_write_rolls_back(
    world: World, settings: Settings
) -> None:
    app = create_app(settings)
    tag = world.tag()
    template = world.template()
    with TestClient(app, raise_server_exceptions=False) as client:

        def put(run_id: str, name: str) -> Any:
            return client.put(
                world.url(f"/runs/{run_id}"),
                json={"name": name, "summary": name, "tags": [tag]},
                headers=world.admin.headers,
            )

        probe = world.launch(template)["id"]
        total = _statements_of(app.state.engine, lambda: put(probe, "probe"))
        # A fault at the first statement has nothing before it to undo: the write needs more
        # than one statement for some fault to strike after others of its transaction ran.
        assert total >= 2, f"the run update took {total} statement(s)"
        for nth in range(1, total + 1):
            run_id = world.launch(template)["id"]
            url = world.url(f"/runs/{run_id}")
            before = client.get(url, headers=world.admin.headers).json()["data"]
            hook = _fail_at(app.state.engine, nth)
            try:
                response = put(run_id, f"changed {nth}")
            finally:
                event.remove(app.state.engine, "before_cursor_execute", hook)
            _assert_unavailable(response)
            assert client.get(url, headers=world.admin.headers).json()["data"] == before
            assert put(run_id, "after the fault").status_code == 200


def test_a_failing_launch_leaves_no_half_run(world: World, settings: Settings) -> None:
    app = create_app(settings)
    template = world.template()
    with TestClient(app, raise_server_exceptions=False) as client:
        listing = world.url("/runs?per_page=100")
        before = client.get(listing, headers=world.admin.headers).json()["meta"]
        for nth in range(1, 8):
            hook = _fail_at(app.state.engine, nth)
            try:
                response = client.post(
                    world.url("/runs"), json={"checklist_id": template}, headers=world.admin.headers
                )
            finally:
                event.remove(app.state.engine, "before_cursor_execute", hook)
            assert response.status_code in (201, 503), response.text
            if response.status_code == 201:
                break
        after = client.get(listing, headers=world.admin.headers).json()["meta"]
        created = after["pagination"]["total"] - before["pagination"]["total"]
        assert created == (1 if response.status_code == 201 else 0)
