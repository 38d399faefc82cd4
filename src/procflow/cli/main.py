"""The `procflow` command. Every command reads PROCFLOW_DATABASE_URL.

A failure the operator can fix (a bad setting, an unusable database, a port in use) is
one `error:` line and one `hint:` line on standard error, and a non-zero exit
(`cli.failures`).
"""

import gc
import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from procflow import __version__
from procflow.cli.console import console
from procflow.cli.events_commands import events_app
from procflow.cli.failures import (
    CommandFailed,
    database_errors,
    load_settings,
    report,
    reported,
    shown_url,
)
from procflow.domain.permissions import Role
from procflow.domain.timeutil import format_ts
from procflow.services import organizations, webhook_secrets
from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from procflow.storage.database import is_sqlite, make_engine, make_session_factory
from procflow.storage.migrate import Migration, upgrade
from procflow.storage.sqlite import backup as sqlite_backup

app = typer.Typer(
    help="procflow: a self-hosted process server that speaks Tallyfy's API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold tokens and database passwords
)
users_app = typer.Typer(help="Members of an organization.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal access tokens.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema and backups.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Webhooks: the signing secret.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
files_app = typer.Typer(help="Uploaded files.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(files_app, name="files")
app.add_typer(events_app, name="events")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _migrated_engine(settings: Settings) -> tuple[Engine, list[Migration]]:
    """An engine on the database, brought up to the latest schema, and what that applied."""
    with database_errors(settings.database_url):
        engine = make_engine(settings)
        try:
            return engine, upgrade(engine)
        except BaseException:
            engine.dispose()
            raise


def _migrate(settings: Settings) -> list[Migration]:
    """Apply pending migrations on an engine of its own, closed before returning."""
    engine, applied = _migrated_engine(settings)
    engine.dispose()
    return applied


@contextmanager
def _unit_of_work() -> Iterator[UnitOfWork]:
    """One transaction on a migrated database; the engine's connections close afterwards."""
    engine, _ = _migrated_engine(load_settings())
    try:
        with UnitOfWork(make_session_factory(engine), write=True) as uow:
            yield uow
    finally:
        engine.dispose()


def http_protocol() -> Any:
    """uvicorn's httptools protocol, patched for h2c offers (`cli/server_protocol.py`)."""
    from procflow.cli.server_protocol import UpgradeTolerantHttpToolsProtocol

    return UpgradeTolerantHttpToolsProtocol


def _this_command() -> str:
    """How to run this same `procflow` from the current directory."""
    argv0 = Path(sys.argv[0])
    if argv0.name != "procflow":
        return "procflow"
    on_path = shutil.which("procflow")
    if on_path and Path(on_path).resolve() == argv0.resolve():
        return "procflow"
    try:
        return str(argv0.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(argv0.absolute())


def _token_hint(settings: Settings) -> str:
    command = f"{_this_command()} init --org-name 'My org' --email you@example.com"
    if "PROCFLOW_DATABASE_URL" not in os.environ:
        return f"No token yet? In another terminal, run: {command}"
    if settings.database_url.startswith("sqlite"):
        variable = f"PROCFLOW_DATABASE_URL={shlex.quote(settings.database_url)}"
        return f"No token yet? In another terminal, run: {variable} {command}"
    return f"No token yet? In another terminal, with the same PROCFLOW_DATABASE_URL: {command}"


def _migrations_summary(applied: list[Migration]) -> str:
    if not applied:
        return "up to date"
    first, last = applied[0].revision, applied[-1].revision
    return f"applied migration {first}" if first == last else f"applied migrations {first}-{last}"


@app.command()
@reported
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=64, help="Worker processes on the port (default PROCFLOW_WORKERS, 1)."
        ),
    ] = None,
) -> None:
    """Apply migrations, then serve the API (at / and under /api)."""
    from procflow.cli import mail_worker, serving, webhook_worker
    from procflow.cli.supervisor import Supervisor, metrics_directory
    from procflow.logs import configure_logging

    settings = load_settings()
    count = workers or settings.workers
    configure_logging(settings.log_format, settings.log_level)
    sock = serving.listening_socket(host, port)
    try:
        database = shown_url(settings.database_url)
        typer.echo(f"database {database}: {_migrations_summary(_migrate(settings))}")
        base = serving.base_url(sock)
        several = f" with {count} workers" if count > 1 else ""

        def ready() -> None:
            typer.echo(
                f"procflow {__version__} is serving {base}{several} (the API at / and under /api)"
            )
            typer.echo(f"Documentation: {base}/docs")
            typer.echo(_token_hint(settings))
            typer.echo("Press Ctrl+C to stop.")

        def serve_here(on_ready: Callable[[], None]) -> None:
            from procflow.api.app import create_app
            from procflow.api.server_limits import server_limits

            limits = server_limits(settings, http_protocol())
            app = create_app(settings)
            factory = app.state.session_factory
            with (
                webhook_worker.running(factory, settings) as deliver,
                mail_worker.running(factory, settings) as mail,
            ):

                def listening() -> None:
                    on_ready()
                    deliver()
                    mail()

                serving.run(app, sock, listening, limits, settings.shutdown_timeout_seconds)

        if count == 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            serve_here(ready)
            return
        with metrics_directory():  # before procflow.api (and its metrics) is imported
            if count == 1:
                serve_here(ready)
            else:
                Supervisor(sock, count, serve_here, settings.shutdown_timeout_seconds).run(ready)
    finally:
        sock.close()


@app.command()
@reported
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8000,
    seed: Annotated[
        Path | None, typer.Option(help="A seed document (JSON or YAML) to load at start.")
    ] = None,
    as_json: JsonFlag = False,
    database_url: Annotated[
        str | None,
        typer.Option(help="A database of its own (emptied at will); default: a temporary one."),
    ] = None,
    tallyfy_limits: Annotated[
        bool, typer.Option(help="Apply Tallyfy's rate limits and quirks (see the docs).")
    ] = False,
) -> None:
    """Serve a throw-away sandbox to test Tallyfy integrations against (see
    docs/testing-integrations.md)."""
    gc.disable()  # while importing the application; its lifespan turns it back on
    from procflow.cli import sandboxing

    sandboxing.run(
        load_settings(),
        host=host,
        port=port,
        seed=seed,
        as_json=as_json,
        database_url=database_url,
        tallyfy_limits=tallyfy_limits,
    )


@app.command()
@reported
def init(
    org_name: Annotated[str, typer.Option("--org-name", help="Organization name.")],
    email: Annotated[str, typer.Option(help="Email of the first administrator.")],
    as_json: JsonFlag = False,
) -> None:
    """Create an organization, its admin member, and a token for that admin."""
    with _unit_of_work() as uow:
        creds = organizations.create_organization(uow, name=org_name, admin_email=email)
    if as_json:
        typer.echo(
            json.dumps({"org_id": creds.org_id, "user_id": creds.user_id, "token": creds.token})
        )
        return
    console().print(f"organization: {creds.org_id}\nuser id:      {creds.user_id}")
    console().print(f"token:        {creds.token}\n(shown once; keep it safe)")


@users_app.command("add")
@reported
def users_add(
    org: Annotated[str, typer.Option(help="Organization id.")],
    email: Annotated[str, typer.Option(help="The member's email.")],
    role: Annotated[Role, typer.Option(help="admin, standard or light.")] = Role.STANDARD,
    as_json: JsonFlag = False,
) -> None:
    """Add a member (or change an existing member's role) and issue them a token."""
    with _unit_of_work() as uow:
        creds = organizations.add_member(uow, org_id=org, email=email, role=role)
    if as_json:
        typer.echo(json.dumps({"user_id": creds.user_id, "token": creds.token}))
        return
    console().print(f"user id: {creds.user_id}\ntoken:   {creds.token}\n(shown once)")


@tokens_app.command("create")
@reported
def tokens_create(
    email: Annotated[str, typer.Option(help="Email of an existing member.")],
    as_json: JsonFlag = False,
) -> None:
    """Issue a new token for an existing member."""
    with _unit_of_work() as uow:
        user_id, token = organizations.create_token(uow, email=email)
    if as_json:
        typer.echo(json.dumps({"user_id": user_id, "token": token}))
        return
    console().print(f"token: {token}\n(shown once)")


@tokens_app.command("list")
@reported
def tokens_list(
    email: Annotated[str, typer.Option(help="Email of the person whose tokens to list.")],
    as_json: JsonFlag = False,
) -> None:
    """List a person's tokens (their first characters only) and whether each is revoked."""
    with _unit_of_work() as uow:
        user_id, found = organizations.tokens_of(uow, email=email)
    rows = [
        {
            "id": t.id,
            "prefix": t.prefix,
            "created_at": format_ts(t.created_at),
            "revoked_at": format_ts(t.revoked_at),
        }
        for t in found
    ]
    if as_json:
        typer.echo(json.dumps({"user_id": user_id, "tokens": rows}))
        return
    for row in rows:
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "live"
        console().print(f"{row['id']:>6}  {row['prefix']}…  created {row['created_at']}  {state}")
    if not rows:
        console().print("no tokens")


@tokens_app.command("revoke")
@reported
def tokens_revoke(
    token: Annotated[
        str | None, typer.Option(help="The token itself; '-' reads it from standard input.")
    ] = None,
    token_id: Annotated[
        int | None, typer.Option("--id", help="A token's id, as `tokens list` shows it.")
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="Revoke every live token of this person.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Revoke a token at once: by its value, by its id, or all of a person's by email."""
    if sum(option is not None for option in (token, token_id, email)) != 1:
        raise report("give exactly one of --token, --id and --email", code=2)
    if token == "-":
        token = typer.get_text_stream("stdin").read().strip()
    with _unit_of_work() as uow:
        revoked = organizations.revoke_tokens(uow, token=token, token_id=token_id, email=email)
    if as_json:
        typer.echo(json.dumps({"revoked": revoked}))
        return
    console().print(f"revoked: {len(revoked)} token(s)" + (f" (ids {revoked})" if revoked else ""))


@db_app.command("upgrade")
@reported
def db_upgrade() -> None:
    """Apply every pending migration, and say which."""
    settings = load_settings()
    applied = _migrate(settings)
    for migration in applied:
        typer.echo(f"applied {migration.revision}: {migration.title.splitlines()[0]}")
    done = f"{len(applied)} migration(s) applied" if applied else "no migration to apply"
    typer.echo(f"database {shown_url(settings.database_url)} is up to date ({done})")


@app.command()
@reported
def worker() -> None:
    """Deliver webhooks and e-mails until stopped (for nodes that run `serve` with
    PROCFLOW_WEBHOOK_WORKER=false and PROCFLOW_EMAIL_WORKER=false). Several workers may run
    at once: each delivery attempt and each e-mail is claimed by one."""
    from procflow.cli import mail_worker, webhook_worker

    stop = webhook_worker.stop_on_signals()
    settings = load_settings()
    engine, _ = _migrated_engine(settings)
    try:
        typer.echo(
            f"procflow {__version__} delivers webhooks from {shown_url(settings.database_url)}"
        )
        factory = make_session_factory(engine)
        with mail_worker.running(factory, settings, enabled=True) as mail:
            mail()
            webhook_worker.run_until_signalled(factory, settings, stop)
    finally:
        engine.dispose()


@webhooks_app.command("rotate-secret")
@reported
def webhooks_rotate_secret(
    org: Annotated[str, typer.Option(help="Organization id.")],
    as_json: JsonFlag = False,
) -> None:
    """Give the organization a new signing secret (the previous one signs for 24 hours more)."""
    with _unit_of_work() as uow:
        row = webhook_secrets.rotate_for_org(uow, org)
        secret = row.secret
    if as_json:
        typer.echo(json.dumps({"org_id": org, "secret": secret}))
        return
    console().print(f"secret: {secret}\n(the previous one is valid for 24 hours more)")


@files_app.command("sweep")
@reported
def files_sweep(
    grace: Annotated[
        int | None,
        typer.Option(help="Leave bytes younger than this many seconds (default: setting)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Delete stored file bytes that no file row names (left by a crash mid-upload)."""
    from procflow.services import files
    from procflow.storage.blobs import open_blob_store

    settings = load_settings()
    seconds = settings.files_sweep_grace_seconds if grace is None else grace
    with _unit_of_work() as uow:
        deleted = files.sweep(uow, open_blob_store(settings), seconds)
    if as_json:
        typer.echo(json.dumps({"deleted": deleted}))
        return
    typer.echo(f"deleted {len(deleted)} orphaned file(s)")


PG_DUMP_HINT = (
    "on PostgreSQL use its own tools: pg_dump -Fc -f FILE DBNAME to back up, "
    "pg_restore --clean --if-exists -d DBNAME FILE to restore (docs/deploy.md, Backups)"
)


def _sqlite_url(settings: Settings) -> str:
    if not is_sqlite(settings.database_url):
        raise CommandFailed("procflow db backup and restore copy SQLite databases", PG_DUMP_HINT)
    return settings.database_url


@db_app.command("backup")
@reported
def db_backup(
    file: Annotated[Path, typer.Argument(help="Where to write the copy (replaced if present).")],
) -> None:
    """Copy the SQLite database to FILE, safely while servers use it."""
    settings = load_settings()
    url = _sqlite_url(settings)
    try:
        size = sqlite_backup.backup(url, file, settings.lock_timeout_ms)
    except sqlite_backup.BackupFailed as error:
        raise CommandFailed(str(error), "check PROCFLOW_DATABASE_URL and FILE's folder") from None
    typer.echo(f"backed up {shown_url(url)} to {file} ({size} bytes, integrity ok)")


@db_app.command("restore")
@reported
def db_restore(
    file: Annotated[Path, typer.Argument(help="A file written by `procflow db backup`.")],
) -> None:
    """Replace the SQLite database's content by the backup FILE (stop the servers first)."""
    settings = load_settings()
    url = _sqlite_url(settings)
    try:
        sqlite_backup.restore(file, url, settings.lock_timeout_ms)
    except sqlite_backup.BackupFailed as error:
        raise CommandFailed(str(error), "give a file written by `procflow db backup`") from None
    applied = _migrate(settings)
    typer.echo(f"restored {shown_url(url)} from {file}; migrations: {_migrations_summary(applied)}")
