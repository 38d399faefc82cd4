"""No token is ever stored or logged in clear.

Tokens are made every way there is (CLI `init`, `users add`, `tokens create`, the guest
token route), then used, accepted and refused, through the in-process client and through a
real uvicorn server with every procflow, uvicorn and SQLAlchemy logger at DEBUG. Then every
row of every table is read back and every log record is searched for any token.

The module has a database of its own: the session's, which every test before this one
filled, made reading every row back take minutes late in a run.
"""

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, select
from typer.testing import CliRunner

from procflow.api.app import create_app
from procflow.cli.main import app as cli
from procflow.settings import Settings, get_settings
from procflow.storage.database import make_engine
from procflow.storage.migrate import upgrade
from tests.stress.harness import database_kind, fresh_database

LOGGERS = ("procflow", "uvicorn", "uvicorn.access", "uvicorn.error", "sqlalchemy.engine")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    workdir = tmp_path_factory.mktemp("tokens")
    with fresh_database(database_kind(), workdir) as url:
        files_dir = str(tmp_path_factory.mktemp("tokens-files"))
        yield Settings(database_url=url, auth_cache_seconds=0, files_dir=files_dir)


@pytest.fixture(scope="module")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def cli_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def cli_database(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PROCFLOW_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def served(settings: Settings) -> Iterator[str]:
    """A real uvicorn server (access log on, logging left to the test's capture)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings.model_copy(update={"database_echo": True})),
        host="127.0.0.1",
        port=port,
        log_config=None,
        log_level="debug",
        access_log=True,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def make_tokens(client: TestClient) -> dict[str, str]:
    first = cli_json("init", "--org-name", "Tokens", "--email", "tokens@example.com", "--json")
    org = first["org_id"]
    member = cli_json(
        "users", "add", "--org", org, "--email", "std-tokens@example.com", "--role", "standard",
        "--json",
    )  # fmt: skip
    extra = cli_json("tokens", "create", "--email", "tokens@example.com", "--json")
    headers = {"Authorization": f"Bearer {first['token']}"}
    created = client.post(
        f"/organizations/{org}/guests", json={"email": "g-tokens@example.com"}, headers=headers
    )
    assert created.status_code == 201, created.text
    issued = client.post(f"/organizations/{org}/guests/g-tokens@example.com/token", headers=headers)
    assert issued.status_code == 201, issued.text
    return {
        "org_id": org,
        "init": first["token"],
        "users add": member["token"],
        "tokens create": extra["token"],
        "guest": issued.json()["data"]["token"],
    }


def use(send: Any, tokens: dict[str, str]) -> None:
    """Accepted and refused requests with every token (the refusals are logged too)."""
    org = tokens["org_id"]
    for name in ("init", "users add", "tokens create", "guest"):
        token = tokens[name]
        for path in ("/me", f"/organizations/{org}/runs", f"/organizations/{org}/guest-tasks"):
            assert send("GET", path, {"Authorization": f"Bearer {token}"}).status_code < 500
        refused = send(
            "GET", f"/organizations/{'0' * 32}/runs", {"Authorization": f"Bearer {token}"}
        )
        assert refused.status_code in (401, 403)
        garbled = send("GET", "/me", {"Authorization": f"Bearer {token}x"})
        assert garbled.status_code == 401
        malformed = send("PUT", f"/organizations/{org}/runs/x", {"Authorization": token})
        assert malformed.status_code == 401


def secrets(tokens: dict[str, str]) -> list[str]:
    """Each token, and its random part on its own (the first 8 characters are a prefix)."""
    found = []
    for name, token in tokens.items():
        if name != "org_id":
            found += [token, token[8:], token[-24:]]
    return found


def everything_stored(engine: Engine) -> str:
    metadata = MetaData()
    metadata.reflect(engine)
    assert metadata.tables, "no tables reflected"
    with engine.connect() as conn:
        dumped = [
            repr(tuple(row))
            for table in metadata.sorted_tables
            for row in conn.execute(select(table))
        ]
    return "\n".join(dumped)


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    lines = [caplog.text]
    for record in caplog.records:
        lines.append(record.getMessage())
        lines.append(repr(record.args))
        lines.append(repr(getattr(record, "scope", "")))
    return "\n".join(lines)


def test_no_token_is_stored_or_logged_in_clear(
    cli_database: None,
    debug_logs: pytest.LogCaptureFixture,
    client: TestClient,
    served: str,
    engine: Engine,
) -> None:
    tokens = make_tokens(client)

    def in_process(method: str, path: str, headers: dict[str, str]) -> Any:
        return client.request(method, path, headers=headers)

    with httpx2.Client(base_url=served, timeout=30) as http:

        def over_http(method: str, path: str, headers: dict[str, str]) -> Any:
            return http.request(method, path, headers=headers)

        use(in_process, tokens)
        use(over_http, tokens)
    assert any(r.name.startswith("uvicorn") for r in debug_logs.records), "no server log seen"
    stored, logged = everything_stored(engine), everything_logged(debug_logs)
    assert tokens["org_id"] in stored
    for secret in secrets(tokens):
        assert secret not in stored
        assert secret not in logged
