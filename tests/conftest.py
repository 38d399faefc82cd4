"""Test fixtures: a real database built by the migrations, and an HTTP client.

`PROCFLOW_TEST_DB=sqlite` (default) uses a fresh SQLite file per session;
`PROCFLOW_TEST_DB=postgres` creates a database `procflow_test_<worker>_<pid>` on the server
named by `PROCFLOW_TEST_PG_URL` (default: local PostgreSQL, user postgres) and drops it at
the end. Under pytest-xdist every worker is a session of its own, with its own database.
Tests isolate themselves by creating their own organization, so nothing is rolled back
between them, and they pass in any order.

Markers, set here by folder so a new test file gets them without anyone remembering:
`slow` (real server processes: tests/races, tests/stress, tests/deploy), `stress` (tests/stress),
`conformance` (Tallyfy's published contract and client: tests/contract, tests/sdk), and
`matrix` (the cells of the per-route security matrices that `--quick` leaves out: it keeps
one cell in eight of each), and `pg` (PostgreSQL only; set by hand, skipped on SQLite).
"""

import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text

from procflow.api.app import create_app
from procflow.settings import Settings
from procflow.storage.database import make_engine, make_session_factory
from procflow.storage.migrate import upgrade
from tests.factories import World
from tests.inline_client import InlineClient

PG_ADMIN_URL = os.environ.get(
    "PROCFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ON_POSTGRES = os.environ.get("PROCFLOW_TEST_DB", "sqlite") == "postgres"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

# Both of these measure wall-clock time per example, which a loaded machine stretches at
# random: a property either holds or not, however long an example takes. Examples are still
# drawn at random (Schemathesis's generation is derandomized by its own configuration).
hypothesis_settings.register_profile(
    "procflow", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("procflow")

FOLDER_MARKS = {
    "races": ("slow",),
    "stress": ("slow", "stress"),
    "deploy": ("slow",),
    "contract": ("conformance",),
    "sdk": ("conformance",),
}
# Tests whose subject is not the database run in the SQLite phase of scripts/test only
# (marker `one_database`; the PostgreSQL phase deselects them): sockets and slow clients,
# rate-limit windows, the operator's command line, the route tables and permission matrix
# (every route is still exercised on PostgreSQL by the contract run), input validation,
# Tallyfy's SDK, and tests that start their own servers on a database of their choosing or
# prove crash safety by killing a server (the write path is one on both databases).
ONE_DATABASE = (
    "tests/security/test_slow_clients.py",
    "tests/security/test_route_matrix.py",
    "tests/security/test_adversarial.py",
    "tests/security/test_input_families.py",
    "tests/api/test_rate_limit.py",
    "tests/api/test_mounting.py",
    "tests/api/test_parameter_plan.py",
    "tests/cli/",
    "tests/sdk/",
    "tests/sandbox/integration/",  # the sandbox process runs on a temporary SQLite of its own
    "tests/deploy/test_workers.py",
    "tests/deploy/test_backup.py",
    "tests/stress/test_crash.py",
    "tests/webhooks/test_crash.py",
    "tests/files/test_crash.py",
    "tests/storage/test_postgresql_paths.py",  # makes its own PostgreSQL database
)
# Tests parametrized over every route (or every route and role): hundreds of cells each, about
# half of the CPU of the quick run before they were marked. `matrix` marks seven cells in eight
# of each, chosen by a checksum of the test's id so that the cells the quick run keeps are
# always the same ones; the full run runs them all.
MATRICES = {
    "tests/security/test_route_matrix.py": (
        "test_role_cell",
        "test_another_organizations_objects_are_not_found",
    ),
    "tests/security/test_cross_org_people.py": (
        "test_no_write_changes_the_other_organizations_view",
        "test_no_read_shows_the_other_organizations_people",
    ),
    "tests/security/test_adversarial.py": ("test_hostile_requests_are_refused_cleanly",),
    "tests/security/test_input_families.py": ("test_input_families_never_reach_a_500",),
}
QUICK_SHARE_OF_A_MATRIX = 8
# Unit tests of the stress checker's own logic: no server, no reason to be slow.
UNMARKED = {"tests/stress/test_checks.py"}
ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        relative = item.path.resolve().relative_to(ROOT).as_posix()
        parts = relative.split("/")
        if len(parts) > 2 and relative not in UNMARKED:
            for name in FOLDER_MARKS.get(parts[1], ()):
                item.add_marker(name)
            if "slow" in FOLDER_MARKS.get(parts[1], ()):
                # one pytest-xdist worker per module (`--dist loadgroup`): its servers start once
                item.add_marker(pytest.mark.xdist_group(relative))
        in_matrix = item.name.split("[", 1)[0] in MATRICES.get(relative, ())
        if in_matrix and zlib.crc32(item.nodeid.encode()) % QUICK_SHARE_OF_A_MATRIX:
            item.add_marker("matrix")
        if relative.startswith(ONE_DATABASE):
            item.add_marker("one_database")
        if item.get_closest_marker("pg") and not ON_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only (PROCFLOW_TEST_DB=postgres)"))


def database_name(purpose: str = "test") -> str:
    """A PostgreSQL database name of this worker and process alone."""
    return f"procflow_{purpose}_{WORKER}_{os.getpid()}"


def pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


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
        name = database_name()
        _recreate_postgres(name, create=True)
        try:
            yield pg_url(name)
        finally:
            _recreate_postgres(name, create=False)
        return
    if kind != "sqlite":
        raise pytest.UsageError(f"PROCFLOW_TEST_DB must be sqlite or postgres, not {kind!r}")
    path: Path = tmp_path_factory.mktemp("db") / "procflow.db"
    yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    files_dir = str(tmp_path_factory.mktemp("files"))
    return Settings(database_url=database_url, auth_cache_seconds=0, files_dir=files_dir)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings)
    with InlineClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def world(engine: Engine, client: TestClient) -> World:
    """A fresh organization with an admin, a standard and a light member."""
    return World.create(make_session_factory(engine), client)


@pytest.fixture
def other_world(engine: Engine, client: TestClient) -> World:
    """A second, unrelated organization (for cross-tenant checks)."""
    return World.create(make_session_factory(engine), client)
