"""An operator's mistake is one `error:` line and one `hint:` line, a non-zero exit, and no
traceback; `serve` says where it serves only once it listens; `db upgrade` says what it did."""

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from typer.testing import CliRunner, Result

from procflow.cli.main import app
from procflow.settings import get_settings

runner = CliRunner()
MIGRATIONS = Path(__file__).parents[2] / "src" / "procflow" / "storage" / "migrations" / "versions"


def assert_reported(result: Result, *expected: str) -> None:
    """Exit 1, nothing on standard output, and exactly an error line and a hint line."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("error: ")
    assert lines[1].startswith("hint: ")
    for text in expected:
        assert text in result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def url(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Lets a test set PROCFLOW_DATABASE_URL itself (settings re-read afterwards)."""
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PROCFLOW_LOCK_TIMEOUT_MS", "soon"),
        ("PROCFLOW_SQLITE_BUSY_TIMEOUT_MS", "-1"),  # the deprecated name, named as set
        ("PROCFLOW_SQLITE_CHECKPOINT_MS", "-5"),
        ("PROCFLOW_RATE_LIMIT", "lots"),
    ],
)
@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve", "--port", "0"]])
def test_a_bad_setting_names_the_variable(
    url: None, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, command: list[str]
) -> None:
    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    assert_reported(runner.invoke(app, command), variable)


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("not a url", "not a usable database URL"),
        ("postgres://procflow:s3cret@127.0.0.1/procflow", "postgresql+psycopg://"),
        ("mysql+nosuchdriver://procflow:s3cret@127.0.0.1/procflow", "not a usable database"),
        ("postgresql+psycopg://procflow:s3cret@127.0.0.1:1/procflow", "cannot use the database"),
    ],
)
def test_an_unusable_database_url_is_one_line_with_a_hint(
    url: None, monkeypatch: pytest.MonkeyPatch, database_url: str, expected: str
) -> None:
    monkeypatch.setenv("PROCFLOW_DATABASE_URL", database_url)
    for command in (["db", "upgrade"], ["init", "--org-name", "A", "--email", "a@example.com"]):
        result = runner.invoke(app, command)
        assert_reported(result, expected)
        assert "s3cret" not in result.output


def test_a_sqlite_file_that_cannot_be_created(
    url: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROCFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    assert_reported(runner.invoke(app, ["db", "upgrade"]), "directory exists")


def test_a_port_in_use(database: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert_reported(result, f"127.0.0.1:{port}", "--port")
    assert "serving" not in result.output


def test_db_upgrade_names_what_it_applied(database: str) -> None:
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    *applied, summary = first.stdout.splitlines()
    assert len(applied) == len(list(MIGRATIONS.glob("*.py")))
    revisions = [line.split()[1].rstrip(":") for line in applied]
    assert all(line.startswith("applied ") for line in applied)
    assert revisions == sorted(revisions)
    assert summary.endswith(f"is up to date ({len(applied)} migration(s) applied)")
    again = runner.invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [again.stdout.strip()]
    assert again.stdout.strip().endswith("is up to date (no migration to apply)")


class Lines:
    """A process's standard output, line by line, read by a thread of its own."""

    def __init__(self, stream: IO[str]) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.queue.put(line)
        self.queue.put("")

    def next(self) -> str:
        """The next line; the deadline only stops the test of a server that hangs."""
        return self.queue.get(timeout=120)


def test_serve_announces_itself_once_it_listens(database: str) -> None:
    procflow = Path(sys.executable).with_name("procflow")
    env = {**os.environ, "PYTHONWARNINGS": "error::ResourceWarning"}
    with subprocess.Popen(
        [str(procflow), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        try:
            assert proc.stdout is not None
            lines = Lines(proc.stdout)
            migrated = lines.next()
            serving = lines.next()
            assert migrated.startswith("database ")
            assert "applied migrations" in migrated
            assert " is serving http://127.0.0.1:" in serving
            base = serving.split(" is serving ")[1].split()[0]
            # No retry: it listens by the time it says so.
            with urllib.request.urlopen(f"{base}/health", timeout=30) as response:
                assert response.status == 200
            assert lines.next().startswith("Documentation: ")
            assert "procflow init --org-name" in lines.next()
        finally:
            proc.send_signal(signal.SIGINT)
            stderr = proc.stderr.read() if proc.stderr else ""
            proc.wait(timeout=60)
    assert proc.returncode == 0
    assert stderr == ""
