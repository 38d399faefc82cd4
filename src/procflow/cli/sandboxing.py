"""How `procflow sandbox` starts: a throw-away database, its people, then the server.

Everything a plain `serve` does at start that a throw-away database does not need is
left out, so that a test session waits as little as possible for its sandbox.
"""

import json
import os
import shutil
import signal
import tempfile
from pathlib import Path

import typer
from fastapi import FastAPI

from procflow.cli import serving
from procflow.cli.failures import CommandFailed
from procflow.errors import ValidationFailed
from procflow.sandbox import boot
from procflow.settings import Settings


def run(
    settings: Settings,
    *,
    host: str,
    port: int,
    seed: Path | None,
    as_json: bool,
    database_url: str | None,
    tallyfy_limits: bool = False,
) -> None:
    """Serve a sandbox until stopped; its temporary folder goes with it, also when stopped
    by SIGTERM (uvicorn raises it again once it has shut down: it then unwinds this)."""
    folder = Path(tempfile.mkdtemp(prefix="procflow-sandbox-", dir=_memory_folder()))
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        sock = serving.listening_socket(host, port)
        try:
            settings = boot.sandbox_settings(settings, folder, database_url)
            app = _started(settings, folder, seed, tallyfy_limits)
            base = serving.base_url(sock)
            announcement = app.state.sandbox.announcement(base)

            def ready() -> None:
                if as_json:
                    typer.echo(json.dumps(announcement))
                    return
                typer.echo(f"procflow sandbox at {base} (control routes under /_sandbox)")
                for key, value in announcement.items():
                    typer.echo(f"  {key}: {value}")
                typer.echo("Press Ctrl+C to stop; the data goes with it.")

            serving.run(app, sock, ready, {}, 0)
        finally:
            sock.close()
    finally:
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(folder, ignore_errors=True)


def _exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _memory_folder() -> str | None:
    """A folder in memory (Linux's /dev/shm) when there is one: the sandbox's database is
    small and throw-away, and a reset then rewrites it without touching a disk."""
    shm = Path("/dev/shm")
    try:
        return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    except OSError:
        return None


def _started(settings: Settings, folder: Path, seed: Path | None, limits: bool) -> FastAPI:
    try:
        return boot.start(settings, folder, seed, limits)
    except ValidationFailed as refused:
        problems = "; ".join(f"{key}: {' '.join(text)}" for key, text in refused.errors.items())
        raise CommandFailed(
            f"the seed document {seed} is refused: {problems}",
            "fix those fields (docs/testing-integrations.md, The seed format)",
        ) from None
    except OSError as error:
        raise CommandFailed(f"cannot read the seed document: {error}", "check --seed") from None
