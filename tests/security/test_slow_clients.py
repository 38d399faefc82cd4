"""Slow and greedy clients against a real uvicorn server with procflow's guard: a request
head or body that does not arrive in time is answered 408 and its connection closed; an
answer sent before the body was read closes the connection; a too-large head is refused;
one address holds a bounded number of connections.

The deadlines are short (0.2 s) and every wait for the server is bounded by a generous
30 s, so a loaded machine makes these tests slower, never wrong.
"""

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import uvicorn

from procflow.api.app import create_app
from procflow.api.server_limits import server_limits
from procflow.cli.server_protocol import UpgradeTolerantHttpToolsProtocol
from procflow.settings import Settings

PATIENCE = 30.0
PROTOCOLS = {"h11": "h11", "httptools": UpgradeTolerantHttpToolsProtocol}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


Scenario = Callable[[int], Awaitable[None]]


def serve_and_run(settings: Settings, http: Any, scenario: Scenario, **limits: Any) -> None:
    tuned = settings.model_copy(
        update={"header_read_timeout_seconds": 0.2, "body_read_timeout_seconds": 0.2, **limits}
    )
    port = _free_port()

    async def main() -> None:
        config = uvicorn.Config(
            create_app(tuned),
            host="127.0.0.1",
            port=port,
            log_level="critical",
            lifespan="off",
            **server_limits(tuned, http),
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        async with asyncio.timeout(PATIENCE):
            while not server.started:
                await asyncio.sleep(0.01)
        try:
            await scenario(port)
        finally:
            server.should_exit = True
            await task

    asyncio.run(main())


async def answer_then_close(port: int, sent: bytes) -> bytes:
    """Everything the server writes after `sent`, up to its closing the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(sent)
    await writer.drain()
    async with asyncio.timeout(PATIENCE):
        received = await reader.read()  # to EOF: the server closed the connection
    writer.close()
    return received


@pytest.fixture(params=sorted(PROTOCOLS))
def http(request: pytest.FixtureRequest) -> Any:
    return PROTOCOLS[request.param]


def test_a_slow_or_missing_request_head_is_408_and_closed(settings: Settings, http: Any) -> None:
    async def scenario(port: int) -> None:
        for sent in (b"", b"GET /health HTTP/1.1\r\nhost: a\r\n"):
            received = await answer_then_close(port, sent)
            assert received.startswith(b"HTTP/1.1 408 "), received
            assert b'"code":"REQUEST_TIMEOUT"' in received

    serve_and_run(settings, http, scenario)


def test_a_slow_body_is_408_and_closed(settings: Settings, http: Any) -> None:
    async def scenario(port: int) -> None:
        head = (
            b"PUT /organizations/o/runs/r HTTP/1.1\r\nhost: a\r\n"
            b"content-type: application/json\r\ncontent-length: 100\r\n\r\n{"
        )
        received = await answer_then_close(port, head)
        assert received.startswith(b"HTTP/1.1 408 "), received
        assert b"connection: close" in received.lower()
        assert b'"code":"REQUEST_TIMEOUT"' in received

    serve_and_run(settings, http, scenario)


def test_an_answer_before_the_body_was_read_closes_the_connection(
    settings: Settings, http: Any
) -> None:
    async def scenario(port: int) -> None:
        head = b"POST /no/such/route HTTP/1.1\r\nhost: a\r\ncontent-length: 100\r\n\r\nabc"
        received = await answer_then_close(port, head)
        assert received.startswith(b"HTTP/1.1 404 "), received

    serve_and_run(settings, http, scenario, body_read_timeout_seconds=PATIENCE * 10)


def test_a_request_head_beyond_the_limit_is_refused(settings: Settings, http: Any) -> None:
    async def scenario(port: int) -> None:
        head = b"GET /health HTTP/1.1\r\nhost: a\r\n" + b"x-filler: " + b"f" * 10_000 + b"\r\n"
        received = await answer_then_close(port, head)
        assert received.split(b" ", 2)[1] in (b"431", b"400"), received

    serve_and_run(
        settings, http, scenario, max_header_bytes=4096, header_read_timeout_seconds=PATIENCE * 10
    )


def test_one_address_holds_a_bounded_number_of_connections(settings: Settings, http: Any) -> None:
    async def scenario(port: int) -> None:
        held = []
        for _ in range(2):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /health HTTP/1.1\r\nhost: a\r\n\r\n")
            async with asyncio.timeout(PATIENCE):
                assert (await reader.readuntil(b"}")).startswith(b"HTTP/1.1 200 ")
            held.append(writer)
        received = await answer_then_close(port, b"GET /health HTTP/1.1\r\nhost: a\r\n\r\n")
        assert received.startswith(b"HTTP/1.1 503 "), received
        assert b"retry-after: 1" in received.lower()
        for writer in held:
            writer.close()

    serve_and_run(
        settings,
        http,
        scenario,
        max_connections_per_client=2,
        header_read_timeout_seconds=PATIENCE * 10,
        keep_alive_timeout_seconds=int(PATIENCE * 10),
    )
