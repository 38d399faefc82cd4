"""A real procflow server on a loopback port, and Tallyfy's Python SDK pointed at it.

Only the SDK's `base_url` differs from how it talks to Tallyfy; retries are switched off so a
wrong answer fails at once instead of being retried with back-off.
"""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine
from tallyfy import TallyfySDK

from procflow.api.app import create_app
from procflow.settings import Settings
from tests.factories import World

STARTUP_SECONDS = 10.0


@pytest.fixture(scope="session")
def server_url(settings: Settings, engine: Engine) -> Iterator[str]:
    """Serve the app from a background thread; the socket is bound first, so no port race."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("procflow did not start listening")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def sdk_for(server_url: str) -> Iterator[Callable[[str], Any]]:
    """Build SDK clients for any token, configured as for Tallyfy except for `base_url`."""
    with ExitStack() as clients:

        def connect(token: str) -> Any:
            return clients.enter_context(
                TallyfySDK(
                    api_key=token,
                    base_url=server_url,
                    timeout=10,
                    max_retries=0,
                    retry_delay=0,
                    retry_jitter=0,
                )
            )

        yield connect


@pytest.fixture
def sdk(sdk_for: Callable[[str], Any], world: World) -> Any:
    """The SDK as the world's admin would use it."""
    return sdk_for(world.admin.token)
