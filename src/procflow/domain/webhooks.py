"""The rules of outbound webhooks, free of I/O: event names, signatures, retries, and which
addresses a webhook may never reach.

Tallyfy's webhooks carry no event id and no signature and are tried once; ours carry both
and are retried with exponential backoff and jitter on what a retry can mend (a network
error, a timeout, a 5xx, a 408 or a 429), never on another 4xx.
"""

import hashlib
import hmac
import ipaddress
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit


class EventType(StrEnum):
    """The `event` of a payload: the names n8n's Tallyfy trigger filters on, and ours for
    what Tallyfy notifies without naming it."""

    PROCESS_LAUNCHED = "process.launched"
    PROCESS_COMPLETED = "process.completed"
    KICKOFF_COMPLETED = "process.kickoff_completed"
    TASK_COMPLETED = "task.completed"
    TASK_REOPENED = "task.reopened"
    COMMENT_ADDED = "task.comment_added"
    ISSUE_RAISED = "task.issue_raised"
    ISSUE_RESOLVED = "task.issue_resolved"
    AUTOMATION_FIRED = "automation.fired"


TASK_EVENTS = frozenset(
    {
        EventType.TASK_COMPLETED,
        EventType.TASK_REOPENED,
        EventType.COMMENT_ADDED,
        EventType.ISSUE_RAISED,
        EventType.ISSUE_RESOLVED,
    }
)

SIGNATURE_HEADER = "X-Procflow-Signature"
EVENT_ID_HEADER = "X-Procflow-Event-Id"
EVENT_TYPE_HEADER = "X-Procflow-Event"
ATTEMPT_HEADER = "X-Procflow-Delivery-Attempt"
TALLYFY_ORG_HEADER = "X-Tallyfy-orgID"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 of `<timestamp>.<body>` under `secret`, in hex."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets: Iterable[str], timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex>[,v1=<hex>]`: one v1 per live secret (two during a
    rotation's grace period)."""
    parts = [f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secrets)]
    return ",".join(parts)


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (docs/webhooks.md): a fresh timestamp and one matching v1."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for key, value in fields if key == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance:
        return False
    expected = sign(secret, int(stamps[0]), body)
    return any(key == "v1" and hmac.compare_digest(value, expected) for key, value in fields)


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


def outcome_of(status: int | None) -> Outcome:
    """A 2xx delivered; no answer (network error, timeout), 5xx, 408 and 429 may heal;
    any other answer will not."""
    if status is None or status >= 500 or status in (408, 429):
        return Outcome.RETRY
    if 200 <= status < 300:
        return Outcome.DELIVERED
    return Outcome.FAILED


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base_seconds: float = 5.0
    max_seconds: float = 3600.0

    def delay(self, attempts_made: int, draw: Callable[[], float] = random.random) -> float:
        """Seconds before the next try after `attempts_made` tries: exponential with full
        jitter in its upper half (so a crowd of retries spreads, yet never comes early)."""
        growth: float = 2.0 ** max(attempts_made - 1, 0)
        ceiling = min(self.max_seconds, self.base_seconds * growth)
        return ceiling / 2 + draw() * ceiling / 2

    def gives_up(self, attempts_made: int) -> bool:
        return attempts_made >= self.max_attempts


LOCAL_NAMES = ("localhost", "localhost.localdomain")


def forbidden_address(address: str) -> bool:
    """Loopback, link-local, private, shared, multicast, reserved or unspecified: never a
    webhook's destination unless an administrator allows private addresses."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def forbidden_host(host: str) -> bool:
    """What can be told without a DNS lookup: an address literal or a local name."""
    name = host.strip("[]").rstrip(".").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    return forbidden_address(name)


def host_of(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def refused_url(url: str) -> bool:
    """A webhook URL whose host is plainly not public (checked again at send time, after
    the name resolves)."""
    host = host_of(url)
    return host is None or forbidden_host(host)
