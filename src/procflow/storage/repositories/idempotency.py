"""Idempotency key rows: look up, claim, complete, release, purge.

Every write after the claim names the claim's lease (`locked_until`), so a request whose
lease ran out, and whose key was claimed again, can neither complete nor release the
newer claim.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from procflow.storage.database import connection_of
from procflow.storage.models import IdempotencyKey

RUNNING = "running"
DONE = "done"

_T = IdempotencyKey
_FIND = select(
    _T.id,
    _T.fingerprint,
    _T.state,
    _T.status_code,
    _T.response_headers,
    _T.response_body,
    _T.expires_at,
    _T.locked_until,
)


@dataclass(frozen=True)
class Lease:
    """A claim: the row and the lease's end, which together name it."""

    row_id: int
    until: datetime


@dataclass(frozen=True)
class Entry:
    row_id: int
    fingerprint: str
    state: str
    status_code: int | None
    response_headers: dict[str, str] | None
    response_body: bytes | None
    expires_at: datetime
    locked_until: datetime | None

    def reclaimable(self, now: datetime) -> bool:
        """Expired, or claimed by a request that died before it committed."""
        if self.expires_at <= now:
            return True
        return self.state == RUNNING and (self.locked_until is None or self.locked_until <= now)


def find(session: Session, org_id: str, client: str, key: str) -> Entry | None:
    query = _FIND.where(_T.org_id == org_id, _T.client == client, _T.key == key)
    row = connection_of(session).execute(query).first()
    return None if row is None else Entry(*row)


def insert_claim(
    session: Session,
    *,
    org_id: str,
    client: str,
    key: str,
    fingerprint: str,
    now: datetime,
    lease_until: datetime,
    expires_at: datetime,
) -> Lease:
    """A new `running` row; a concurrent claim of the same key raises IntegrityError."""
    statement = (
        insert(_T)
        .values(
            org_id=org_id,
            client=client,
            key=key,
            fingerprint=fingerprint,
            state=RUNNING,
            created_at=now,
            expires_at=expires_at,
            locked_until=lease_until,
        )
        .returning(_T.id)
    )
    row_id = connection_of(session).execute(statement).scalar_one()
    return Lease(row_id, lease_until)


def reclaim(
    session: Session,
    entry: Entry,
    *,
    fingerprint: str,
    now: datetime,
    lease_until: datetime,
    expires_at: datetime,
) -> Lease | None:
    """Take over an expired or abandoned row; None if another request got there first."""
    statement = (
        update(_T)
        .where(
            _T.id == entry.row_id,
            or_(
                _T.expires_at <= now,
                (_T.state == RUNNING) & (_T.locked_until <= now),
            ),
        )
        .values(
            fingerprint=fingerprint,
            state=RUNNING,
            status_code=None,
            response_headers=None,
            response_body=None,
            created_at=now,
            expires_at=expires_at,
            locked_until=lease_until,
        )
    )
    done = connection_of(session).execute(statement).rowcount == 1
    return Lease(entry.row_id, lease_until) if done else None


def _held(lease: Lease) -> Any:
    return (_T.id == lease.row_id) & (_T.state == RUNNING) & (_T.locked_until == lease.until)


def complete(
    session: Session,
    lease: Lease,
    *,
    status_code: int,
    headers: dict[str, str],
    body: bytes,
    expires_at: datetime,
) -> bool:
    """Store the response under the key; False if the lease was lost meanwhile."""
    statement = (
        update(_T)
        .where(_held(lease))
        .values(
            state=DONE,
            status_code=status_code,
            response_headers=headers,
            response_body=body,
            expires_at=expires_at,
            locked_until=None,
        )
    )
    return connection_of(session).execute(statement).rowcount == 1


def release(session: Session, lease: Lease) -> None:
    """Forget a claim that stored nothing, so that the client may retry with the key."""
    connection_of(session).execute(delete(_T).where(_held(lease)))


def purge_expired(session: Session, now: datetime, limit: int) -> int:
    """Delete up to `limit` expired rows, skipping rows another transaction holds."""
    doomed = (
        select(_T.id)
        .where(_T.expires_at <= now)
        .order_by(_T.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    connection = connection_of(session)
    ids = list(connection.execute(doomed).scalars())
    if not ids:
        return 0
    return connection.execute(delete(_T).where(_T.id.in_(ids))).rowcount
