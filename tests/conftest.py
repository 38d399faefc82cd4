"""Test fixtures: a real database built by the migrations, and an HTTP client.

`PROCFLOW_TEST_DB=sqlite` (default) uses a fresh SQLite file per session;
`PROCFLOW_TEST_DB=postgres` creates a database `procflow_test_<pid>` on the server named by
`PROCFLOW_TEST_PG_URL` (default: local PostgreSQL, user postgres). Tests isolate
themselves by creating their own organization, so nothing is rolled back between them.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from procflow.api.app import create_app
from procflow.settings import Settings
from procflow.storage.database import make_engine, make_session_factory
from procflow.storage.migrate import upgrade
from tests.factories import World

PG_ADMIN_URL = os.environ.get(
    "PROCFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _recreate_postgres(name: str, create: bool) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        if create:
            conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    kind = os.environ.get("PROCFLOW_TEST_DB", "sqlite")
    if kind == "postgres":
        name = f"procflow_test_{os.getpid()}"
        _recreate_postgres(name, create=True)
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        _recreate_postgres(name, create=False)
        return
    if kind != "sqlite":
        raise pytest.UsageError(f"PROCFLOW_TEST_DB must be sqlite or postgres, not {kind!r}")
    path: Path = tmp_path_factory.mktemp("db") / "procflow.db"
    yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, auth_cache_seconds=0)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def world(engine: Engine, client: TestClient) -> World:
    """A fresh organization with an admin, a standard and a light member."""
    return World.create(make_session_factory(engine), client)


@pytest.fixture
def other_world(engine: Engine, client: TestClient) -> World:
    """A second, unrelated organization (for cross-tenant checks)."""
    return World.create(make_session_factory(engine), client)
