"""How `procflow serve` runs uvicorn: on a socket it has bound itself, so that a port in use
is one clear error, and saying where it serves only once it listens."""

import contextlib
import errno
import socket
from collections.abc import Callable
from typing import Any

import uvicorn

from procflow.cli.failures import CommandFailed


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to `host`:`port` (uvicorn starts listening on it), or why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise CommandFailed(
            f"cannot listen on {host}:{port}: {error.strerror or error}", _bind_hint(error, port)
        ) from None
    return sock


def _bind_hint(error: OSError, port: int) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"another program (perhaps another procflow) listens on port {port}: stop it, "
            "or choose another port with --port"
        )
    if error.errno == errno.EACCES:
        return "ports below 1024 need privileges: choose another with --port (e.g. 8000)"
    return "--host must be an address of this machine, such as 127.0.0.1 or 0.0.0.0"


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, calling `on_ready` once it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            self.on_ready()


def run(
    app: Any,
    sock: socket.socket,
    on_ready: Callable[[], None],
    limits: dict[str, Any],
    shutdown_timeout: int,
) -> None:
    """Serve the ASGI `app` on `sock` until Ctrl+C (then returns) or SIGTERM (then the
    process ends by that signal, as uvicorn does). Either way uvicorn first stops accepting
    connections and gives the requests in progress `shutdown_timeout` seconds to finish.
    `limits` are uvicorn's keyword arguments for the HTTP protocol and its limits
    (`api/server_limits.py`)."""
    config = uvicorn.Config(
        app,
        access_log=False,
        log_config=None,  # procflow.logs formats uvicorn's records as its own
        log_level="warning",
        ws="none",
        loop="asyncio",  # uvloop served some connections late under load (BENCHMARKS.md)
        timeout_graceful_shutdown=shutdown_timeout,
        **limits,
    )
    # After a graceful shutdown uvicorn raises the signal that asked for it again; Ctrl+C
    # has then done what was asked, and is no error.
    with contextlib.suppress(KeyboardInterrupt):
        AnnouncingServer(config, on_ready).run(sockets=[sock])
