"""Apply Alembic migrations from inside the installed package (no alembic.ini needed).

Alembic is imported when first used, not with this module: a process that only serves a
database already migrated (a sandbox from its cached schema) never pays for it.
"""

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Connection, Engine, text

from procflow.storage.sqlite.engine import writing

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x70726F63666C6F77  # "procflow": the advisory lock of migrations


def alembic_config(url: str) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option(
        "file_template",
        "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    return config


class Migration(NamedTuple):
    revision: str
    title: str


def _heads(connection: Connection) -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_heads()


@lru_cache(maxsize=1)
def latest_heads() -> tuple[str, ...]:
    """The revisions the migrations end at, read from the package once per process."""
    from alembic.script import ScriptDirectory

    return tuple(sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()))


def is_current(engine: Engine) -> bool:
    """Whether the database answers and its schema is at the latest migration (raises
    SQLAlchemy's error when it cannot be reached)."""
    with engine.connect() as connection:
        return tuple(sorted(_heads(connection))) == latest_heads()


def _serialise(connection: Connection) -> None:
    """Nodes that start together migrate one after the other: on PostgreSQL a transaction
    advisory lock (released at commit) is taken before the schema's version is read, so
    whoever comes second finds the schema migrated and applies nothing. SQLite gets the
    same from `BEGIN IMMEDIATE`."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def upgrade(engine: Engine, revision: str = "head") -> list[Migration]:
    """Bring the database at `engine` up to `revision`, in one connection; return the
    migrations that this applied, oldest first (none when it was up to date)."""
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    token = writing.set(True)  # SQLite: BEGIN IMMEDIATE, the write lock before reading
    try:
        with engine.begin() as connection:
            _serialise(connection)
            before = _heads(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            after = _heads(connection)
    finally:
        writing.reset(token)
    if after == before:
        return []
    scripts = ScriptDirectory.from_config(config).iterate_revisions(after, before or None)
    return [Migration(s.revision, (s.doc or "").strip()) for s in reversed(list(scripts))]


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
