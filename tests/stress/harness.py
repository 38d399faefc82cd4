"""A real `procflow serve` in a child process, for tests that must see what a client sees.

The data-safety tests cannot run in-process: they need many concurrent connections to one
server, and they kill that server with SIGKILL. This module starts the installed `procflow`
command on a free loopback port against a fresh database, bootstraps an organization with
`procflow init --json` exactly as an operator would, and offers a small HTTP client.

Sizes come from the environment so the same tests serve CI (small) and a full run:
`PROCFLOW_STRESS_FULL=1` switches every default to the full size of issue 4, and each
`PROCFLOW_STRESS_*` variable overrides one number.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get(
    "PROCFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PROCFLOW = Path(sys.executable).with_name("procflow")
FULL = os.environ.get("PROCFLOW_STRESS_FULL", "") not in ("", "0")


def size(name: str, small: int, full: int) -> int:
    """`PROCFLOW_STRESS_<NAME>` if set, else the full or the CI-sized default."""
    raw = os.environ.get(f"PROCFLOW_STRESS_{name}")
    return int(raw) if raw else (full if FULL else small)


def report(line: str) -> None:
    """A result line: on stdout (seen with `pytest -s`) and appended to the file named by
    PROCFLOW_STRESS_REPORT, which `scripts/stress` prints at the end."""
    sys.stdout.write(line + "\n")
    target = os.environ.get("PROCFLOW_STRESS_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(line + "\n")


def database_kind() -> str:
    kind = os.environ.get("PROCFLOW_TEST_DB", "sqlite")
    if kind not in ("sqlite", "postgres"):
        raise ValueError(f"PROCFLOW_TEST_DB must be sqlite or postgres, not {kind!r}")
    return kind


@contextlib.contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    """A database URL nobody else uses: a new SQLite file, or a new PostgreSQL database
    that is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'procflow.db'}"
        return
    name = f"procflow_stress_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """One `procflow serve` process; it can be started again after a stop or a kill."""

    def __init__(
        self, database_url: str, workdir: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PROCFLOW_DATABASE_URL": database_url,
            "PROCFLOW_AUTH_CACHE_SECONDS": "0",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds: list[float] = []

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def start(self, timeout: float = 180.0) -> None:
        assert self.process is None, "already running"
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(PROCFLOW), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self._wait_ready(timeout)
        self.start_seconds.append(time.monotonic() - began)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"procflow serve exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=5, trust_env=False).is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"procflow serve did not answer /health:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no goodbye."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def cli(self, *args: str) -> Any:
        """Runs `procflow <args> --json` against the server's database; returns the JSON."""
        done = subprocess.run(
            [str(PROCFLOW), *args, "--json"],
            env=self.env,
            capture_output=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"procflow {' '.join(args)} failed: {done.stderr.decode()}")
        return json.loads(done.stdout)


@dataclass(frozen=True)
class Org:
    org_id: str
    user_id: int
    token: str


def bootstrap(server: Server) -> Org:
    created = server.cli("init", "--org-name", "Stress", "--email", "admin@stress.example")
    return Org(created["org_id"], created["user_id"], created["token"])


class Api:
    """A client of one organization; one per thread (httpx clients are not shared)."""

    def __init__(self, server: Server, org: Org, timeout: float = 60.0) -> None:
        self.org = org
        self.http = httpx.Client(
            base_url=f"{server.base_url}/organizations/{org.org_id}",
            headers={"Authorization": f"Bearer {org.token}", "Accept": "application/json"},
            timeout=timeout,
            trust_env=False,
            # Below uvicorn's 5 s keep-alive, so a pooled connection is never reused just as
            # the server closes it (that race would look like a server fault).
            limits=httpx.Limits(keepalive_expiry=1.0),
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "Api":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        return self.http.request(method, path, json=body, headers=headers)

    def created(self, path: str, body: Any) -> dict[str, Any]:
        response = self.request("POST", path, body)
        if response.status_code != 201:
            raise AssertionError(f"POST {path} -> {response.status_code}: {response.text[:300]}")
        data: dict[str, Any] = response.json()["data"]
        return data

    def create_tag(self, title: str) -> str:
        return str(self.created("/tags", {"title": title, "color": "#aabbcc"})["id"])

    def create_template(self, title: str, steps: int = 1) -> str:
        checklist_id = str(self.created("/checklists", {"title": title})["id"])
        for number in range(steps):
            self.created(f"/checklists/{checklist_id}/steps", {"title": f"Step {number + 1}"})
        return checklist_id

    def launch(self, checklist_id: str, name: str | None = None) -> str:
        body = {"checklist_id": checklist_id} | ({"name": name} if name else {})
        return str(self.created("/runs", body)["id"])
