"""`procflow db backup` and `db restore` say what to use on PostgreSQL instead."""

import pytest
from typer.testing import CliRunner

from procflow.cli.main import app
from procflow.settings import get_settings

runner = CliRunner()


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_postgresql_is_pointed_to_pg_dump(
    command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("PROCFLOW_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["db", command, "somewhere.dump"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "pg_dump" in result.stderr
