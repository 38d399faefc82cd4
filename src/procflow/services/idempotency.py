"""Idempotency keys: one effect per key, and the first answer for every retry.

A keyed request is claimed in its own short transaction before it runs (`claim`), then
its response is stored in the same transaction as its effect (`complete`), so a crash
can never leave an effect without the record that would replay it. While the first
request runs, a duplicate is a `Conflict`; after it, the stored response is replayed. A
request that stored nothing (it failed and was rolled back) gives the key back
(`release`), so the client may retry with it.

Correctness rests on the database alone (the unique key and lease-guarded writes), so any
number of server processes may share one database.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import exc as sa_exc

from procflow.domain.timeutil import utcnow
from procflow.errors import Conflict, ValidationFailed
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.repositories import idempotency as repo
from procflow.storage.repositories.idempotency import Lease

# How long a claim stays exclusive. A request that has not finished by then is taken to
# have died (its transaction rolled back) and a retry may claim the key again; should it
# still be running, it can no longer store its answer and is rolled back (`complete`).
LEASE = timedelta(seconds=60)
# Expired rows deleted per claim: enough to keep the table at its working size.
PURGE_BATCH = 20
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Scope:
    """Who used which key for what: the key is private to one client in one organization."""

    org_id: str
    client: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    headers: dict[str, str]
    body: bytes


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    """What makes two requests "the same": method, path, query string and body."""
    digest = hashlib.sha256(f"{method} {path}\n".encode("utf-8", "surrogatepass"))
    digest.update(query)
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


def claim(uow: UnitOfWork, scope: Scope, ttl: timedelta) -> Lease | StoredResponse:
    """The key for this request, or the response stored under it.

    Raises `Conflict` while another request holds the key, and `ValidationFailed` when the
    key was used for a different request.
    """
    session = uow.session
    now = utcnow()
    repo.purge_expired(session, now, PURGE_BATCH)
    entry = repo.find(session, scope.org_id, scope.client, scope.key)
    lease_until, expires_at = now + LEASE, now + ttl
    if entry is None:
        try:
            return repo.insert_claim(
                session,
                org_id=scope.org_id,
                client=scope.client,
                key=scope.key,
                fingerprint=scope.fingerprint,
                now=now,
                lease_until=lease_until,
                expires_at=expires_at,
            )
        except sa_exc.IntegrityError as race:
            raise Conflict() from race
    if entry.reclaimable(now):
        lease = repo.reclaim(
            session,
            entry,
            fingerprint=scope.fingerprint,
            now=now,
            lease_until=lease_until,
            expires_at=expires_at,
        )
        if lease is None:
            raise Conflict()
        return lease
    if entry.fingerprint != scope.fingerprint:
        raise ValidationFailed.one(
            HEADER,
            "This key was already used for a different request (method, path, query or "
            "body); use a new key for a new request.",
        )
    if entry.state != repo.DONE:
        raise Conflict()
    return StoredResponse(
        entry.status_code or 200, dict(entry.response_headers or {}), entry.response_body or b""
    )


def complete(uow: UnitOfWork, lease: Lease, response: StoredResponse, ttl: timedelta) -> None:
    """Store the response with the effect; `Conflict` (all rolled back) if the lease was lost."""
    stored = repo.complete(
        uow.session,
        lease,
        status_code=response.status_code,
        headers=response.headers,
        body=response.body,
        expires_at=utcnow() + ttl,
    )
    if not stored:
        raise Conflict(
            "This request outlived its hold on the idempotency key and was not applied; retry it."
        )


def release(uow: UnitOfWork, lease: Lease) -> None:
    repo.release(uow.session, lease)
