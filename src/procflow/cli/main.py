"""The `procflow` command. Every command reads PROCFLOW_DATABASE_URL."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console

from procflow.domain.permissions import Role
from procflow.domain.timeutil import format_ts
from procflow.errors import ProcflowError
from procflow.services import organizations
from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings, get_settings
from procflow.storage.database import make_engine, make_session_factory
from procflow.storage.migrate import upgrade

app = typer.Typer(
    help="procflow: a self-hosted process server that speaks Tallyfy's API.",
    no_args_is_help=True,
    add_completion=False,
)
users_app = typer.Typer(help="Members of an organization.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal access tokens.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(db_app, name="db")
console = Console(soft_wrap=True)
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _migrate(settings: Settings) -> None:
    """Apply pending migrations on an engine of its own, closed before returning."""
    engine = make_engine(settings)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


@contextmanager
def _unit_of_work() -> Iterator[UnitOfWork]:
    """One transaction on a migrated database; the engine's connections close afterwards."""
    engine = make_engine(get_settings())
    try:
        upgrade(engine)
        with UnitOfWork(make_session_factory(engine), write=True) as uow:
            yield uow
    finally:
        engine.dispose()


def _fail(error: ProcflowError) -> typer.Exit:
    detail = getattr(error, "errors", None)
    err.print(f"[red]error:[/red] {error.message}" + (f" {detail}" if detail else ""))
    return typer.Exit(code=1)


def http_protocol() -> Any:
    """uvicorn's httptools protocol, patched for h2c offers (`cli/server_protocol.py`)."""
    from procflow.cli.server_protocol import UpgradeTolerantHttpToolsProtocol

    return UpgradeTolerantHttpToolsProtocol


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Apply migrations, then serve the API (at / and under /api)."""
    import uvicorn

    from procflow.api.app import create_app

    settings = get_settings()
    _migrate(settings)
    console.print(f"procflow serving on http://{host}:{port}  (database: {settings.database_url})")
    console.print("No token yet? Run: procflow init --org-name 'My org' --email you@example.com")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        http=http_protocol(),
        ws="none",
        loop="asyncio",  # uvloop served some connections late under load (BENCHMARKS.md)
    )


@app.command()
def init(
    org_name: Annotated[str, typer.Option("--org-name", help="Organization name.")],
    email: Annotated[str, typer.Option(help="Email of the first administrator.")],
    as_json: JsonFlag = False,
) -> None:
    """Create an organization, its admin member, and a token for that admin."""
    try:
        with _unit_of_work() as uow:
            creds = organizations.create_organization(uow, name=org_name, admin_email=email)
    except ProcflowError as error:
        raise _fail(error) from error
    if as_json:
        typer.echo(
            json.dumps({"org_id": creds.org_id, "user_id": creds.user_id, "token": creds.token})
        )
        return
    console.print(f"organization: {creds.org_id}\nuser id:      {creds.user_id}")
    console.print(f"token:        {creds.token}\n(shown once; keep it safe)")


@users_app.command("add")
def users_add(
    org: Annotated[str, typer.Option(help="Organization id.")],
    email: Annotated[str, typer.Option(help="The member's email.")],
    role: Annotated[Role, typer.Option(help="admin, standard or light.")] = Role.STANDARD,
    as_json: JsonFlag = False,
) -> None:
    """Add a member (or change an existing member's role) and issue them a token."""
    try:
        with _unit_of_work() as uow:
            creds = organizations.add_member(uow, org_id=org, email=email, role=role)
    except ProcflowError as error:
        raise _fail(error) from error
    if as_json:
        typer.echo(json.dumps({"user_id": creds.user_id, "token": creds.token}))
        return
    console.print(f"user id: {creds.user_id}\ntoken:   {creds.token}\n(shown once)")


@tokens_app.command("create")
def tokens_create(
    email: Annotated[str, typer.Option(help="Email of an existing member.")],
    as_json: JsonFlag = False,
) -> None:
    """Issue a new token for an existing member."""
    try:
        with _unit_of_work() as uow:
            user_id, token = organizations.create_token(uow, email=email)
    except ProcflowError as error:
        raise _fail(error) from error
    if as_json:
        typer.echo(json.dumps({"user_id": user_id, "token": token}))
        return
    console.print(f"token: {token}\n(shown once)")


@tokens_app.command("list")
def tokens_list(
    email: Annotated[str, typer.Option(help="Email of the person whose tokens to list.")],
    as_json: JsonFlag = False,
) -> None:
    """List a person's tokens (their first characters only) and whether each is revoked."""
    try:
        with _unit_of_work() as uow:
            user_id, found = organizations.tokens_of(uow, email=email)
    except ProcflowError as error:
        raise _fail(error) from error
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
        console.print(f"{row['id']:>6}  {row['prefix']}…  created {row['created_at']}  {state}")
    if not rows:
        console.print("no tokens")


@tokens_app.command("revoke")
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
        err.print("[red]error:[/red] give exactly one of --token, --id and --email")
        raise typer.Exit(code=2)
    if token == "-":
        token = typer.get_text_stream("stdin").read().strip()
    try:
        with _unit_of_work() as uow:
            revoked = organizations.revoke_tokens(uow, token=token, token_id=token_id, email=email)
    except ProcflowError as error:
        raise _fail(error) from error
    if as_json:
        typer.echo(json.dumps({"revoked": revoked}))
        return
    console.print(f"revoked: {len(revoked)} token(s)" + (f" (ids {revoked})" if revoked else ""))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    _migrate(get_settings())
    console.print("database is up to date")
