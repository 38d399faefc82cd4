"""Redis and HAProxy as the tests' own child processes, on free loopback ports.

Both come from Debian's packages (`redis-server`, `haproxy`); `.ci/run` installs them. The
proxy balances round-robin over the nodes, checks each node's `/readyz`, and retries a
request on another node when its connection failed or its node closed it without an
answer (what a node killed mid-request does), which is safe for the If-Match writes the
tests send through it. A check may take a minute before it counts as failed: on a loaded
machine a slow answer is no reason to take a live node out, and a dead one is skipped
anyway, its refused connections retried on the other.
"""

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.conftest import refuses_connections, wait_for
from tests.stress.harness import Server, free_port


def _needed(program: str) -> str:
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin")
    if path is None:
        pytest.skip(f"{program} is not installed (apt-get install {program})")
    return path


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A Redis of the test's own; its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            *(_needed("redis-server"), "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(workdir)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: not refuses_connections(port), "redis-server to listen")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait()


CONFIG = """
global
    maxconn 512
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout check 60s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
frontend api
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET /readyz
{servers}
"""


@contextlib.contextmanager
def haproxy(workdir: Path, nodes: list[Server]) -> Iterator[str]:
    """HAProxy in front of `nodes`; its base URL."""
    port = free_port()
    servers = "\n".join(
        f"    server node{n} 127.0.0.1:{node.port} check inter 1s fall 3 rise 1"
        for n, node in enumerate(nodes)
    )
    config = workdir / "haproxy.cfg"
    config.write_text(CONFIG.format(port=port, servers=servers))
    binary = _needed("haproxy")
    subprocess.run([binary, "-c", "-q", "-f", str(config)], check=True)
    with (workdir / "haproxy.log").open("wb") as log:
        process = subprocess.Popen(
            [binary, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: not refuses_connections(port), "haproxy to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()
