"""`procflow webhooks rotate-secret`: an operator's rotation, without a token."""

import json

import pytest
from typer.testing import CliRunner

from procflow.cli.main import app
from procflow.settings import Settings, get_settings
from tests.factories import World


def test_rotate_secret_from_the_command_line(
    hooks: World, hook_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = hooks.call("GET", "/webhook-secret").json()["data"]["secret"]
    monkeypatch.setenv("PROCFLOW_DATABASE_URL", hook_settings.database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        done = runner.invoke(app, ["webhooks", "rotate-secret", "--org", hooks.org_id, "--json"])
        assert done.exit_code == 0, done.output
        secret = json.loads(done.output)["secret"]
        missing = runner.invoke(app, ["webhooks", "rotate-secret", "--org", "f" * 32])
        assert missing.exit_code != 0
    finally:
        get_settings.cache_clear()
    after = hooks.call("GET", "/webhook-secret").json()["data"]
    assert after["secret"] == secret != before
    assert after["previous_valid_until"] is not None
