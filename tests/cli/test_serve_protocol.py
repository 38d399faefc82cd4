"""The served HTTP/1.1 stack answers Java's h2c upgrade offer without losing the body."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from procflow.api.app import create_app
from procflow.cli.main import http_protocol
from procflow.settings import Settings
from tests.factories import World


@pytest.fixture(scope="module")
def port(settings: Settings) -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=free, http=http_protocol(), log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield free
    server.should_exit = True
    thread.join(timeout=10)


def exchange(port: int, parts: list[bytes]) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        for part in parts:
            conn.sendall(part)
            time.sleep(0.05)
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


@pytest.mark.parametrize("split", [True, False])
def test_h2c_offer_keeps_the_body(world: World, port: int, split: bool) -> None:
    run = world.launch(world.template())
    body = b'{"summary": "sent with an h2c offer"}'
    head = (
        f"PUT /organizations/{world.org_id}/runs/{run['id']} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        "Upgrade: h2c\r\nHTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\n"
        f"Authorization: Bearer {world.admin.token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    response = exchange(port, [head, body] if split else [head + body])
    assert response.startswith(b"HTTP/1.1 200"), response[:200]
    assert world.call("GET", f"/runs/{run['id']}").json()["data"]["summary"] == (
        "sent with an h2c offer"
    )


def read_response(conn: socket.socket) -> bytes:
    """One whole response (head and a Content-Length body) from a kept-alive connection."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += conn.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


def test_kept_alive_connection_gets_whole_responses_of_every_kind(world: World, port: int) -> None:
    """200 with a body, 304 and 204 without one, 404 and 401 errors: in order, each whole."""
    run = world.launch(world.template())
    tag = world.call("POST", "/tags", json={"title": "held-head"}).json()["data"]
    auth = f"Authorization: Bearer {world.admin.token}\r\n"
    base = f"/organizations/{world.org_id}"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET {base}/runs/{run['id']} HTTP/1.1\r\nHost: x\r\n{auth}\r\n".encode())
        first = read_response(conn)
        assert first.startswith(b"HTTP/1.1 200 ")
        etag = next(
            line.split(b":", 1)[1].strip().decode()
            for line in first.split(b"\r\n")
            if line.lower().startswith(b"etag:")
        )
        assert first.rstrip().endswith(b"}")
        requests = [
            f"GET {base}/runs/{run['id']} HTTP/1.1\r\nHost: x\r\n{auth}"
            f"If-None-Match: {etag}\r\n\r\n",
            f"DELETE {base}/tags/{tag['id']} HTTP/1.1\r\nHost: x\r\n{auth}\r\n",
            f"GET {base}/runs/{'0' * 32} HTTP/1.1\r\nHost: x\r\n{auth}\r\n",
            f"GET {base}/runs HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
        statuses = []
        for request in requests:
            conn.sendall(request.encode())
            statuses.append(read_response(conn).split(b" ", 2)[1])
    assert statuses == [b"304", b"204", b"404", b"401"]
