"""The one place procflow makes outbound HTTP requests: webhook POSTs, guarded.

The guard against server-side request forgery resolves the URL's host at send time,
refuses it when any address it resolves to is loopback, link-local, private or otherwise
not public (unless an administrator allows private addresses), and then connects to the
address it checked (the name stays in `Host` and in TLS's SNI and certificate check), so
a name that resolves differently a moment later (DNS rebinding) cannot slip past it.
Redirects are not followed: a 3xx is an answer like any other.
"""

import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2 as httpx

from procflow.domain.webhooks import forbidden_address, forbidden_host

Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class SendResult:
    status: int | None
    latency_ms: float
    error: str | None = None
    refused: bool = False


class Refused(Exception):
    """The URL may not be reached from this server (retrying will not change that)."""


class Unresolved(Exception):
    """The URL's name does not resolve now (it may later: retried like a network error)."""


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Target:
    url: str
    host_header: str
    extensions: dict[str, Any]


def pin(url: str, allow_private: bool, resolver: Resolver = resolve) -> Target:
    """The URL rewritten to the one address it was checked at; `Refused` if none may be."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise Refused("not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not allow_private and forbidden_host(host):
        raise Refused(f"{host} is not a public address")
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as error:
        raise Unresolved(f"cannot resolve {host}: {error}") from None
    if not addresses:
        raise Unresolved(f"{host} resolves to no address")
    if not allow_private and any(forbidden_address(a) for a in addresses):
        raise Refused(f"{host} resolves to an address that is not public")
    address = addresses[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    host_header = parts.netloc.rpartition("@")[2]
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(pinned, host_header, extensions)


class HttpSender:
    """Sends with one pooled client; safe to call from several threads at once."""

    def __init__(self, timeout: float, allow_private: bool, resolver: Resolver = resolve) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
        )

    def close(self) -> None:
        self.client.close()

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        began = time.perf_counter()
        try:
            target = pin(url, self.allow_private, self.resolver)
        except Refused as refusal:
            return SendResult(None, 0.0, f"refused: {refusal}", refused=True)
        except Unresolved as failure:
            return SendResult(None, _since(began), str(failure))
        try:
            response = self.client.post(
                target.url,
                content=body,
                headers={**headers, "Host": target.host_header},
                extensions=target.extensions,
            )
            response.close()
        except httpx.TimeoutException:
            return SendResult(None, _since(began), "timeout")
        except httpx.HTTPError as error:
            return SendResult(None, _since(began), f"{type(error).__name__}: {error}"[:500])
        return SendResult(response.status_code, _since(began))


def _since(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 3)
