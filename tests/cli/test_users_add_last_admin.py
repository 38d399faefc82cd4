"""`procflow users add` changes an existing member's role under the API's rule: the last
active admin of an organization keeps theirs."""

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


def add(org: str, email: str, role: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["users", "add", "--org", org, "--email", email, "--role", role, "--json"]
    )
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def test_the_last_active_admin_cannot_be_demoted(database: str) -> None:
    created = runner.invoke(
        app, ["init", "--org-name", "Acme", "--email", "boss@example.com", "--json"]
    )
    org = str(json.loads(created.stdout)["org_id"])
    code, output = add(org, "boss@example.com", "standard")
    assert code == 1
    assert "at least one administrator" in output
    assert add(org, "boss@example.com", "admin")[0] == 0  # unchanged role: fine
    assert add(org, "second@example.com", "admin")[0] == 0
    assert add(org, "boss@example.com", "standard")[0] == 0  # another admin remains
    code, output = add(org, "second@example.com", "light")
    assert code == 1
    assert "at least one administrator" in output
