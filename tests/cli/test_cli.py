"""The CLI contract other tooling relies on: commands, flags and JSON output."""

import json
from typing import Any

from typer.testing import CliRunner

from procflow.cli.main import app
from tests.cli.conftest import OpenConnections

runner = CliRunner()


def run_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_init_users_and_tokens(database: str) -> None:
    first = run_json("init", "--org-name", "Acme", "--email", "admin@example.com", "--json")
    assert set(first) == {"org_id", "user_id", "token"}
    assert isinstance(first["user_id"], int)
    assert 0 < first["user_id"] < 2**31
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


def token_rows(email: str) -> list[dict[str, Any]]:
    listed = run_json("tokens", "list", "--email", email, "--json")
    rows = listed["tokens"]
    assert isinstance(rows, list)
    return rows


def test_tokens_list_and_revoke(database: str) -> None:
    from fastapi.testclient import TestClient

    from procflow.api.app import create_app
    from procflow.settings import Settings

    first = run_json("init", "--org-name", "Acme", "--email", "admin@example.com", "--json")
    org, token = str(first["org_id"]), str(first["token"])
    second = str(run_json("tokens", "create", "--email", "admin@example.com", "--json")["token"])
    listed = run_json("tokens", "list", "--email", "ADMIN@example.com", "--json")
    assert listed["user_id"] == first["user_id"]
    assert token not in json.dumps(listed)
    rows = token_rows("admin@example.com")
    assert [row["prefix"] for row in rows] == [token[:8], second[:8]]
    assert all(row["revoked_at"] is None and row["created_at"].endswith("Z") for row in rows)
    first_id, second_id = (row["id"] for row in rows)

    api = create_app(Settings(database_url=database, auth_cache_seconds=0))
    with TestClient(api) as client:

        def status(bearer: str) -> int:
            headers = {"Authorization": f"Bearer {bearer}"}
            return client.get(f"/organizations/{org}/runs", headers=headers).status_code

        assert (status(token), status(second)) == (200, 200)
        assert run_json("tokens", "revoke", "--token", token, "--json") == {"revoked": [first_id]}
        assert (status(token), status(second)) == (401, 200)
        assert run_json("tokens", "revoke", "--token", token, "--json") == {"revoked": []}
        from_stdin = ["tokens", "revoke", "--token", "-", "--json"]
        result = runner.invoke(app, from_stdin, input=second)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {"revoked": [second_id]}
        assert status(second) == 401
    run_json("tokens", "create", "--email", "admin@example.com", "--json")
    third_id = token_rows("admin@example.com")[-1]["id"]
    revoked = run_json("tokens", "revoke", "--email", "admin@example.com", "--json")
    assert revoked == {"revoked": [third_id]}
    assert all(row["revoked_at"] is not None for row in token_rows("admin@example.com"))
    assert run_json("tokens", "revoke", "--id", str(first_id), "--json") == {"revoked": []}


def test_tokens_revoke_refusals(database: str) -> None:
    run_json("init", "--org-name", "Acme", "--email", "admin@example.com", "--json")
    assert runner.invoke(app, ["tokens", "revoke", "--token", "pf" + "0" * 64]).exit_code == 1
    assert runner.invoke(app, ["tokens", "revoke", "--id", "999"]).exit_code == 1
    assert runner.invoke(app, ["tokens", "revoke", "--id", str(2**70)]).exit_code == 1
    assert runner.invoke(app, ["tokens", "revoke", "--id", "-1"]).exit_code == 1
    assert runner.invoke(app, ["tokens", "revoke", "--email", "no@example.com"]).exit_code == 1
    assert runner.invoke(app, ["tokens", "list", "--email", "no@example.com"]).exit_code == 1
    assert runner.invoke(app, ["tokens", "revoke"]).exit_code == 2
    both = ["tokens", "revoke", "--id", "1", "--email", "a@b.c"]
    assert runner.invoke(app, both).exit_code == 2


def test_no_command_leaves_a_connection_open(database: str, connections: OpenConnections) -> None:
    first = run_json("init", "--org-name", "Acme", "--email", "admin@example.com", "--json")
    assert connections.count() == 0
    commands = [
        ["db", "upgrade"],
        ["users", "add", "--org", str(first["org_id"]), "--email", "m@example.com", "--json"],
        ["tokens", "create", "--email", "m@example.com", "--json"],
        ["tokens", "list", "--email", "m@example.com", "--json"],
        ["tokens", "revoke", "--email", "m@example.com", "--json"],
        ["tokens", "create", "--email", "nobody@example.com"],
    ]
    for command in commands:
        runner.invoke(app, command)
        assert connections.count() == 0, command
