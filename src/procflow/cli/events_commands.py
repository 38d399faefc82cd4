"""`procflow events`: the outbox from the command line (pruning old events at once)."""

import json
from typing import Annotated

import typer

from procflow.cli.failures import database_errors, load_settings, reported
from procflow.domain.timeutil import format_ts, utcnow
from procflow.services import retention
from procflow.storage.database import make_engine, make_session_factory
from procflow.storage.migrate import upgrade
from procflow.storage.repositories.retention import Counts

events_app = typer.Typer(help="Events: webhook deliveries and e-mails.", no_args_is_help=True)


def _summary(counts: Counts) -> str:
    return (
        f"{counts.events} event(s), {counts.deliveries} webhook delivery(ies), "
        f"{counts.attempts} delivery attempt(s), {counts.messages} e-mail message(s)"
    )


@events_app.command("prune")
@reported
def events_prune(
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than",
            min=0,
            metavar="DAYS",
            help="Prune what is older than this many days (default PROCFLOW_EVENT_RETENTION_DAYS).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Delete finished events (with their webhook deliveries and attempts) and sent or
    failed e-mails older than the retention; nothing pending is ever touched."""
    settings = load_settings()
    days = settings.event_retention_days if older_than is None else older_than
    if not days and older_than is None:
        typer.echo(
            "PROCFLOW_EVENT_RETENTION_DAYS is 0 (events are kept forever): nothing removed;"
            " give --older-than DAYS to prune anyway"
        )
        return
    cutoff = retention.cutoff_of(utcnow(), days)
    with database_errors(settings.database_url):
        engine = make_engine(settings)
        try:
            upgrade(engine)
            factory = make_session_factory(engine)
            counts = (
                retention.preview(factory, cutoff) if dry_run else retention.prune(factory, cutoff)
            )
        finally:
            engine.dispose()
    if as_json:
        shown = {"dry_run": dry_run, "before": format_ts(cutoff), **counts.__dict__}
        typer.echo(json.dumps(shown))
        return
    verb = "would remove" if dry_run else "removed"
    typer.echo(
        f"{verb} {_summary(counts)} older than {days:g} day(s), created before {format_ts(cutoff)}"
    )
