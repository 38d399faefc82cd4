"""pytest fixtures that give each test a clean procflow sandbox to run Tallyfy code against.

Registered through the `pytest11` entry point, so any project with procflow installed has
them; nothing happens unless a test asks for one. `procflow_sandbox` (per session, or per
pytest-xdist worker) starts `procflow sandbox` on a free port, or uses the one at
`PROCFLOW_SANDBOX_URL` (with its admin token in `PROCFLOW_SANDBOX_TOKEN`);
`tallyfy_sandbox` resets it before each test. The sandbox it starts takes Tallyfy's limits
with `--procflow-sandbox-tallyfy-limits` or the ini option `procflow_sandbox_tallyfy_limits`
(one sandbox serves the whole session, so this is a session's choice, not a test's). Only
the standard library is imported here.
"""

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import pytest

START_SECONDS = 60.0
LIMITS = "procflow_sandbox_tallyfy_limits"
PEOPLE = (
    "org_id",
    "admin_token",
    "member_token",
    "light_token",
    "guest_token",
    "admin_id",
    "member_id",
    "light_id",
)


class SandboxError(AssertionError):
    """A control request the sandbox refused; `errors` are its per-field messages."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        self.errors = body.get("errors", {}) if isinstance(body, dict) else {}
        super().__init__(f"sandbox answered {status}: {body}")


def iso_duration(delta: timedelta) -> str:
    """`delta` as an ISO 8601 duration: `P3D`, `PT90S`, `-PT1.5S`."""
    sign = "-" if delta < timedelta(0) else ""
    delta = abs(delta)
    if delta.seconds == 0 and delta.microseconds == 0:
        return f"{sign}P{delta.days}D"
    seconds = delta.total_seconds()
    text = f"{seconds:.6f}".rstrip("0").rstrip(".")
    return f"{sign}PT{text}S"


class Sandbox:
    """A running sandbox: where it is, its people, and its control routes."""

    def __init__(
        self, base_url: str, people: Mapping[str, Any], *, moves_baseline: bool = True
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.people = dict(people)
        self.moves_baseline = moves_baseline
        self.org_id: str = people["org_id"]
        self.admin_token: str = people["admin_token"]
        self.member_token: str = people["member_token"]
        self.light_token: str = people["light_token"]
        self.guest_token: str = people["guest_token"]
        self.admin_id: int = people["admin_id"]
        self.member_id: int = people["member_id"]
        self.light_id: int = people["light_id"]

    def control(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        query: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """A control request with the admin token; its `data`, or SandboxError."""
        url = f"{self.base_url}/_sandbox{path}"
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.admin_token}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            payload = error.read()
            raise SandboxError(error.code, _json_or_text(payload)) from None
        answer = json.loads(text) if text else None
        return answer.get("data", answer) if isinstance(answer, dict) else answer

    def reset(self) -> None:
        self.control("POST", "/reset")

    def seed(self, data_or_path: Mapping[str, Any] | str | os.PathLike[str]) -> Any:
        """Load a seed document: a mapping, or the path of a JSON or YAML file. Seeded on the
        session's sandbox, it is what every reset comes back to; seeded in one test (through
        `tallyfy_sandbox`), it lasts until the next reset. Answers `{"seeded": counts,
        "tokens": {email: token}}`: a token for each member the document added."""
        query = None if self.moves_baseline else {"baseline": "false"}
        if isinstance(data_or_path, Mapping):
            return self.control("POST", "/seed", dict(data_or_path), query=query)
        path = Path(data_or_path)
        kind = "application/json" if path.suffix.lower() == ".json" else "application/yaml"
        raw = path.read_bytes()
        return self.control("POST", "/seed", raw=raw, content_type=kind, query=query)

    def token_for(self, email: str) -> str:
        """A new token for a member of the sandbox (by email, or `admin`, `member`, `light`),
        to act as them. Made on the session's sandbox, it survives resets; made in a test
        (through `tallyfy_sandbox`), it lasts until the next reset, as a seed does."""
        query = None if self.moves_baseline else {"baseline": "false"}
        return str(self.control("POST", "/tokens", {"email": email}, query=query)["token"])

    def export(self) -> Any:
        return self.control("GET", "/export")

    def advance_clock(self, **delta: float) -> Any:
        """Move procflow's clock forward: `advance_clock(days=3, hours=1)`."""
        return self.control("POST", "/clock", {"advance": iso_duration(timedelta(**delta))})

    def fault(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        *,
        delay_ms: int | None = None,
        times: int | None = None,
        rate_limit: Any = None,
    ) -> Any:
        """Make the next requests matching `method` and `path` (a pattern) answer `status`."""
        spec: dict[str, Any] = {"method": method, "path": path, "status": status}
        optional = {"body": body, "delay_ms": delay_ms, "times": times, "rate_limit": rate_limit}
        spec |= {key: value for key, value in optional.items() if value is not None}
        return self.control("POST", "/faults", spec)

    def requests(self, path: str | None = None, status: int | None = None) -> Any:
        """The journal: requests the sandbox served, filtered by path pattern and status."""
        return self.control("GET", "/requests", query={"path": path, "status": status})

    def snapshot(self, name: str) -> Any:
        return self.control("POST", "/snapshots", {"name": name})

    def restore(self, name: str) -> Any:
        return self.control("POST", f"/snapshots/{urllib.parse.quote(name, safe='')}/restore")


def _json_or_text(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode(errors="replace")


def _first_line(stream: IO[str], timeout: float) -> str:
    """The first line `stream` gives within `timeout` seconds ('' if none)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


def start_sandbox(*args: str) -> tuple[subprocess.Popen[str], dict[str, Any], IO[bytes]]:
    """Start `procflow sandbox` on a free port; the process, its announcement, its log."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the sandbox)
    command = [sys.executable, "-m", "procflow", "sandbox", "--port", "0", "--json", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
    assert process.stdout is not None
    line = _first_line(process.stdout, START_SECONDS)
    if not line.strip():
        process.kill()
        process.wait()
        log.seek(0)
        message = log.read().decode(errors="replace")
        log.close()
        raise RuntimeError(f"procflow sandbox did not start:\n{message}")
    return process, json.loads(line), log


def pytest_addoption(parser: pytest.Parser) -> None:
    explain = "start the procflow sandbox with --tallyfy-limits (Tallyfy's rate limits, quirks)"
    group = parser.getgroup("procflow-sandbox", "procflow sandbox")
    group.addoption(
        "--procflow-sandbox-tallyfy-limits",
        action="store_true",
        dest=LIMITS,
        default=False,
        help=explain,
    )
    parser.addini(LIMITS, explain, type="bool", default=False)


def sandbox_arguments(config: pytest.Config) -> list[str]:
    """The options of the `procflow sandbox` this session starts."""
    limits = config.getoption(LIMITS) or config.getini(LIMITS)
    return ["--tallyfy-limits"] if limits else []


@pytest.fixture(scope="session")
def procflow_sandbox(pytestconfig: pytest.Config) -> Iterator[Sandbox]:
    """One sandbox for the session (for each xdist worker); not reset between tests."""
    url = os.environ.get("PROCFLOW_SANDBOX_URL")
    if url:
        token = os.environ.get("PROCFLOW_SANDBOX_TOKEN", "")
        bootstrap = Sandbox(url, dict.fromkeys(PEOPLE, "") | {"admin_token": token})
        yield Sandbox(url, bootstrap.control("GET", "/people"))
        return
    process, announcement, log = start_sandbox(*sandbox_arguments(pytestconfig))
    try:
        yield Sandbox(announcement["base_url"], announcement)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        log.close()


@pytest.fixture
def tallyfy_sandbox(procflow_sandbox: Sandbox) -> Sandbox:
    """The session's sandbox, reset to its state after start (or the session's seed)."""
    procflow_sandbox.reset()
    return Sandbox(procflow_sandbox.base_url, procflow_sandbox.people, moves_baseline=False)
