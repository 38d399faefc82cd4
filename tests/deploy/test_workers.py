"""`procflow serve` with several worker processes on one port.

Writers spread over the workers lose nothing and meet no error (on SQLite they queue on
the database's write lock); a worker that dies is replaced; SIGTERM lets the request in
progress finish before the process ends, and a request that never finishes holds the
shutdown only for `PROCFLOW_SHUTDOWN_TIMEOUT_SECONDS`.
"""

import json
import os
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import create_engine, text

from tests.deploy.conftest import (
    PATIENT,
    WAIT_SECONDS,
    children_of,
    refuses_connections,
    wait_for,
    writers,
)
from tests.stress.harness import Org, Server, bootstrap, database_kind, fresh_database

THREADS = 8
WRITES_PER_THREAD = 25


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Org]]:
    workdir = tmp_path_factory.mktemp("workers")
    with fresh_database(database_kind(), workdir) as url:
        server = Server(
            url,
            workdir,
            env={
                **PATIENT,
                "PROCFLOW_WORKERS": "2",
                "PROCFLOW_LOG_FORMAT": "json",
                "PROCFLOW_ACCESS_LOG": "true",
            },
        )
        server.start()
        try:
            yield server, bootstrap(server)
        finally:
            server.stop()


def test_concurrent_writers_lose_nothing(served: tuple[Server, Org]) -> None:
    server, org = served
    load = writers(server, org, threads=THREADS, per_thread=WRITES_PER_THREAD)
    load.finish()
    assert not load.failures, load.failures[:5]
    assert len(load.acked) == THREADS * WRITES_PER_THREAD
    database = create_engine(server.database_url)
    try:
        with database.connect() as connection:
            held = set(
                connection.execute(
                    text("SELECT id FROM tag WHERE org_id = :org"), {"org": org.org_id}
                ).scalars()
            )
    finally:
        database.dispose()
    assert set(load.acked) <= held


def test_metrics_add_up_every_worker(served: tuple[Server, Org]) -> None:
    server, _ = served
    for _ in range(10):
        assert httpx.get(f"{server.base_url}/healthz", trust_env=False).status_code == 200
    text_format = httpx.get(f"{server.base_url}/metrics", trust_env=False).text
    line = next(
        line
        for line in text_format.splitlines()
        if line.startswith("procflow_http_requests_total") and 'route="/healthz"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) >= 10


def test_log_lines_are_json_with_the_request_id(served: tuple[Server, Org]) -> None:
    server, _ = served
    request_id = f"deploy-{uuid.uuid4().hex}"
    answer = httpx.get(
        f"{server.base_url}/healthz", headers={"X-Request-Id": request_id}, trust_env=False
    )
    assert answer.headers["x-request-id"] == request_id

    def logged() -> list[dict[str, Any]]:
        lines = server.log_path.read_text(errors="replace").splitlines()
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        return [entry for entry in entries if entry.get("request_id") == request_id]

    wait_for(lambda: bool(logged()), "the access log line")
    [entry] = logged()
    assert (entry["logger"], entry["status"], entry["route"]) == (
        "procflow.access",
        200,
        "/healthz",
    )


def test_a_dead_worker_is_replaced(served: tuple[Server, Org]) -> None:
    server, org = served
    assert server.process is not None
    supervisor = server.process.pid
    workers = children_of(supervisor)
    assert len(workers) == 2
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: victim not in children_of(supervisor) and len(children_of(supervisor)) == 2,
        "a replacement worker",
    )
    wait_for(lambda: "starting another" in server.log_tail(200), "the supervisor's note")
    load = writers(server, org, threads=4, per_thread=5)
    load.finish()
    assert not load.failures, load.failures[:5]


def _post_waiting_for_body(port: int, org: Org, body: bytes) -> socket.socket:
    """A POST whose head the server has read and whose body it is waiting for: the
    server's `100 Continue` says the application asked for the body."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=WAIT_SECONDS)
    head = (
        f"POST /organizations/{org.org_id}/tags HTTP/1.1\r\nhost: x\r\n"
        f"authorization: Bearer {org.token}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nexpect: 100-continue\r\n\r\n"
    )
    conn.sendall(head.encode())
    assert conn.recv(1024).startswith(b"HTTP/1.1 100")
    return conn


def _read_all(conn: socket.socket) -> bytes:
    received = b""
    while chunk := conn.recv(65536):
        received += chunk
    return received


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_the_request_in_progress_finish(tmp_path: Path, workers: int) -> None:
    with fresh_database(database_kind(), tmp_path) as url:
        server = Server(url, tmp_path, env={"PROCFLOW_WORKERS": str(workers)})
        server.start()
        try:
            org = bootstrap(server)
            body = b'{"title": "finished during shutdown"}'
            conn = _post_waiting_for_body(server.port, org, body)
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            wait_for(lambda: refuses_connections(server.port), "the port to close")
            conn.sendall(body)
            answer = _read_all(conn)
            conn.close()
            assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
            assert server.process.wait(timeout=WAIT_SECONDS) in (0, -signal.SIGTERM)
        finally:
            server.stop()  # nothing to do when it has ended


def test_a_request_that_never_ends_holds_shutdown_only_so_long(tmp_path: Path) -> None:
    with fresh_database(database_kind(), tmp_path) as url:
        env = {"PROCFLOW_WORKERS": "2", "PROCFLOW_SHUTDOWN_TIMEOUT_SECONDS": "1"}
        server = Server(url, tmp_path, env=env)
        server.start()
        try:
            org = bootstrap(server)
            conn = _post_waiting_for_body(server.port, org, b'{"title": "never sent"}')
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            try:
                assert server.process.wait(timeout=WAIT_SECONDS) in (0, -signal.SIGTERM)
            except subprocess.TimeoutExpired:
                pytest.fail("the server waited past its shutdown timeout")
            conn.close()
        finally:
            server.stop()  # nothing to do when it has ended
