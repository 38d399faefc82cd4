"""The migration that moves names and time zones from the person to each membership copies
them into every membership, and its downgrade puts back the oldest membership's; neither
loses a membership or a token."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from procflow.settings import Settings
from procflow.storage.database import make_engine
from procflow.storage.migrate import alembic_config, downgrade, upgrade
from tests.conftest import PG_ADMIN_URL, _recreate_postgres

SLUG = "member_profile_per_organization"


def revisions() -> tuple[str, str]:
    """(this migration, the one before it), found by file name: ids may be renumbered."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    (revision,) = [r for r in script.walk_revisions() if SLUG in (r.path or "")]
    assert isinstance(revision.down_revision, str)
    return revision.revision, revision.down_revision


@pytest.fixture
def blank(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    if database_url.startswith("postgresql"):
        name = f"procflow_test_{os.getpid()}_profiles"
        _recreate_postgres(name, create=True)
        engine = make_engine(Settings(database_url=PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name))
        yield engine
        engine.dispose()
        _recreate_postgres(name, create=False)
    else:
        # procflow's own engine: foreign keys on, as a server migrates its database
        engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'profiles.db'}"))
        yield engine
        engine.dispose()


def test_every_membership_gets_the_persons_profile_and_back(blank: Engine) -> None:
    this, before = revisions()
    upgrade(blank, before)
    with blank.begin() as connection:
        for statement in (
            "INSERT INTO organization (id, name, run_seq, checklist_seq, task_seq, created_at)"
            " VALUES ('a', 'A', 0, 0, 0, '2026-01-01'), ('b', 'B', 0, 0, 0, '2026-01-02')",
            "INSERT INTO user_account (id, email, first_name, last_name, timezone, created_at)"
            " VALUES (1, 'ada@example.com', 'Ada', 'Lovelace', 'Europe/London', '2026-01-01'),"
            " (2, 'bob@example.com', 'Bob', '', 'UTC', '2026-01-01')",
            "INSERT INTO membership (id, org_id, user_id, role, created_at) VALUES"
            " (1, 'a', 1, 'admin', '2026-01-01'), (2, 'b', 1, 'light', '2026-01-02'),"
            " (3, 'b', 2, 'admin', '2026-01-02')",
            "INSERT INTO access_token (user_id, token_hash, prefix, created_at)"
            " VALUES (1, 'digest', 'pf', '2026-01-01')",
        ):
            connection.execute(text(statement))
    upgrade(blank, this)
    with blank.begin() as connection:
        rows = connection.execute(
            text("SELECT id, first_name, last_name, timezone FROM membership ORDER BY id")
        ).all()
        assert [tuple(row) for row in rows] == [
            (1, "Ada", "Lovelace", "Europe/London"),
            (2, "Ada", "Lovelace", "Europe/London"),
            (3, "Bob", "", "UTC"),
        ]
        connection.execute(text("UPDATE membership SET first_name = 'Other' WHERE id = 2"))
        connection.execute(text("UPDATE membership SET first_name = 'Robert' WHERE id = 3"))
    downgrade(blank, before)
    with blank.connect() as connection:
        people = connection.execute(
            text("SELECT id, first_name, last_name, timezone FROM user_account ORDER BY id")
        ).all()
        assert [tuple(row) for row in people] == [
            (1, "Ada", "Lovelace", "Europe/London"),
            (2, "Robert", "", "UTC"),
        ]
        kept = [
            connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()
            for table in ("membership", "access_token")
        ]
        assert kept == [3, 1]
