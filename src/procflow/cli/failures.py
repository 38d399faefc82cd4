"""What `procflow` prints when an operator's set-up stops a command: one `error:` line that
says what went wrong and one `hint:` line that says what to change, and a non-zero exit.

A traceback tells an operator nothing they can act on when the cause is theirs (a setting
that does not parse, a database URL that is wrong or a server that is down, a port already
taken); it stays for what is a bug.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from pydantic import AliasChoices, ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from procflow.errors import ProcflowError
from procflow.settings import Settings, get_settings

P = ParamSpec("P")
R = TypeVar("R")

URL_EXAMPLES = "sqlite:///./procflow.db or postgresql+psycopg://user:password@host:5432/name"


class CommandFailed(Exception):
    """A failure the operator can fix, with what to try."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def report(message: str, hint: str | None = None, code: int = 1) -> typer.Exit:
    """Print the error (and hint) lines; the caller raises the returned `Exit`."""
    typer.echo(f"error: {message}", err=True)
    if hint:
        typer.echo(f"hint: {hint}", err=True)
    return typer.Exit(code)


def shown_url(url: str) -> str:
    """The database URL with its password masked, fit for a terminal or a log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return url


def _variable(location: str) -> str:
    """The environment variable(s) behind a setting's error location: the one(s) that are
    set, when a setting has more than one name (a deprecated one)."""
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names = [str(c) for c in alias.choices] if isinstance(alias, AliasChoices) else []
        names = names or [f"PROCFLOW_{name.upper()}"]
        if location in (name, *names):
            return " or ".join(n for n in names if n in os.environ) or names[0]
    return location


def load_settings() -> Settings:
    """The settings, or a `CommandFailed` naming each `PROCFLOW_*` variable that is wrong."""
    try:
        return get_settings()
    except ValidationError as error:
        problems = [
            f"{_variable(str(item['loc'][0]) if item['loc'] else '?')}: {item['msg']}"
            for item in error.errors(include_url=False)
        ]
        raise CommandFailed(
            "invalid setting " + "; ".join(problems),
            "fix or unset that environment variable (README.md, Configuration, lists each "
            "setting and its default)",
        ) from None


def _database_failure(error: Exception, url: str) -> CommandFailed:
    if isinstance(error, ImportError):
        return CommandFailed(
            f"no database driver for {shown_url(url)} ({error})",
            f"set PROCFLOW_DATABASE_URL to a URL such as {URL_EXAMPLES} "
            "(PostgreSQL URLs name the psycopg driver)",
        )
    if isinstance(error, sa_exc.ArgumentError):
        scheme = url.partition("://")[0]
        return CommandFailed(
            f"PROCFLOW_DATABASE_URL is not a usable database URL: {error}",
            "write postgresql+psycopg:// (SQLAlchemy does not know postgres://)"
            if scheme == "postgres"
            else f"use a URL such as {URL_EXAMPLES}",
        )
    origin = getattr(error, "orig", None) or error
    reason = (str(origin).strip().splitlines() or [type(origin).__name__])[0]
    hint = (
        "check that the SQLite file's directory exists and is writable"
        if url.startswith("sqlite")
        else "check PROCFLOW_DATABASE_URL (host, port, user, password, database name) "
        "and that the database server is running and accepts connections"
    )
    return CommandFailed(f"cannot use the database at {shown_url(url)}: {reason}", hint)


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn a failure to reach or open the database at `url` into a `CommandFailed`."""
    try:
        yield
    except (ImportError, sa_exc.ArgumentError, sa_exc.OperationalError, sa_exc.InterfaceError) as e:
        raise _database_failure(e, url) from None


def reported(command: Callable[P, R]) -> Callable[P, R]:
    """Run a command, reporting operator-caused failures as `error:`/`hint:` lines."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CommandFailed as failure:
            raise report(failure.message, failure.hint) from None
        except ProcflowError as error:
            detail = getattr(error, "errors", None)
            raise report(error.message + (f" {detail}" if detail else "")) from None

    return run
