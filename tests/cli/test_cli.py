"""The CLI contract other tooling relies on: commands, flags and JSON output."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from procflow.cli.main import app
from procflow.settings import get_settings

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PROCFLOW_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def run_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_init_users_and_tokens(database: str) -> None:
    first = run_json("init", "--org-name", "Acme", "--email", "admin@example.com", "--json")
    assert set(first) == {"org_id", "user_id", "token"}
    assert first["user_id"] == 1
    assert len(str(first["org_id"])) == 32
    second = run_json("init", "--org-name", "Other", "--email", "admin@example.com", "--json")
    assert second["org_id"] != first["org_id"]
    assert second["user_id"] == first["user_id"]
    member = run_json(
        "users",
        "add",
        "--org",
        str(first["org_id"]),
        "--email",
        "light@example.com",
        "--role",
        "light",
        "--json",
    )
    assert set(member) == {"user_id", "token"}
    token = run_json("tokens", "create", "--email", "light@example.com", "--json")
    assert token["user_id"] == member["user_id"]
    assert token["token"] != member["token"]


def test_errors_exit_non_zero(database: str) -> None:
    assert (
        runner.invoke(
            app, ["users", "add", "--org", "0" * 32, "--email", "x@example.com", "--role", "admin"]
        ).exit_code
        == 1
    )
    assert runner.invoke(app, ["tokens", "create", "--email", "nobody@example.com"]).exit_code == 1
    assert (
        runner.invoke(
            app, ["users", "add", "--org", "x", "--email", "x@example.com", "--role", "owner"]
        ).exit_code
        == 2
    )


def test_db_upgrade(database: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0
    assert "up to date" in result.stdout
