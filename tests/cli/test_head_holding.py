"""The response head leaves in one write with the body, and is never held longer than that."""

import asyncio
from types import SimpleNamespace
from typing import Any

from procflow.cli.server_protocol import HeadHoldingTransport


class RecordingTransport:
    """Stands in for the socket transport: what was written, in which writes."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 8000) if name == "sockname" else None


def make() -> tuple[HeadHoldingTransport, RecordingTransport, SimpleNamespace]:
    real = RecordingTransport()
    cycle = SimpleNamespace(response_started=False, response_complete=False)
    return HeadHoldingTransport(real, cycle), real, cycle  # type: ignore[arg-type]


async def turn() -> None:
    await asyncio.sleep(0)


def test_head_and_body_in_one_write() -> None:
    async def scenario() -> list[bytes]:
        held, real, cycle = make()
        cycle.response_started = True
        held.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert real.writes == []
        held.write(b'{"data": 1}')
        await turn()
        return real.writes

    assert asyncio.run(scenario()) == [b'HTTP/1.1 200 OK\r\n\r\n{"data": 1}']


def test_a_head_without_body_goes_out_on_the_next_turn() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        held, real, cycle = make()
        cycle.response_started = True
        held.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        before = list(real.writes)
        await turn()
        held.write(b"5\r\nfirst\r\n")
        return before, real.writes

    before, after = asyncio.run(scenario())
    assert before == []
    assert after == [b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", b"5\r\nfirst\r\n"]


def test_later_chunks_and_early_continue_are_not_held() -> None:
    async def scenario() -> list[bytes]:
        held, real, cycle = make()
        held.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the response starts
        assert real.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
        cycle.response_started = True
        held.write(b"HEAD")
        held.write(b"chunk 1")
        held.write(b"chunk 2")
        await turn()
        return real.writes

    assert asyncio.run(scenario()) == [
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HEADchunk 1",
        b"chunk 2",
    ]


def test_close_sends_the_held_head_first() -> None:
    async def scenario() -> tuple[list[bytes], bool]:
        held, real, cycle = make()
        cycle.response_started = True
        held.write(b"HTTP/1.1 200 OK\r\n\r\n")
        held.close()
        await turn()
        return real.writes, real.closed

    assert asyncio.run(scenario()) == ([b"HTTP/1.1 200 OK\r\n\r\n"], True)


def test_everything_else_is_the_real_transport() -> None:
    held, _, _ = make()
    assert held.get_extra_info("sockname") == ("127.0.0.1", 8000)
    assert held.is_closing() is False
