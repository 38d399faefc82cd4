"""The sandbox's cached empty schema: made by the migrations once, under a name that
changes with the migration scripts, and copied for each sandbox."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from procflow.sandbox import schema


def test_the_schema_is_made_once_and_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    made = schema.template()
    assert made.parent == tmp_path / "cache" / "procflow"
    assert made.name == f"sandbox-schema-{schema.fingerprint()}.db"
    assert list(made.parent.iterdir()) == [made]  # no scratch folder left behind
    stamp = made.stat().st_mtime_ns
    assert schema.template() == made
    assert made.stat().st_mtime_ns == stamp  # the second sandbox copies, it does not migrate
    target = tmp_path / "sandbox.db"
    assert schema.copy_to(target)
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM run")).scalar() == 0
    finally:
        engine.dispose()


def test_an_unusable_cache_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert not schema.copy_to(tmp_path / "missing-folder" / "sandbox.db")
