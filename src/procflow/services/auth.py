"""Personal access tokens and who a bearer token speaks for.

Tokens are random, shown once, and stored only as a SHA-256 digest: a leaked database
does not leak working credentials, and lookups stay a single indexed equality match.
"""

import hashlib
import secrets
import time

from procflow.domain.permissions import Caller, Role
from procflow.errors import PermissionDenied, Unauthenticated
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import AccessToken
from procflow.storage.repositories import access

TOKEN_PREFIX = "pf"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(uow: UnitOfWork, user_id: int) -> str:
    """Create a token for `user_id`; the clear text exists only in the return value."""
    token = TOKEN_PREFIX + secrets.token_hex(32)
    uow.session.add(AccessToken(user_id=user_id, token_hash=hash_token(token), prefix=token[:8]))
    uow.session.flush()
    return token


def user_for_token(uow: UnitOfWork, token: str) -> int:
    user_id = access.user_of(uow.session, hash_token(token))
    if user_id is None:
        raise Unauthenticated()
    return user_id


class CallerCache:
    """Memberships confirmed in the last `seconds`, keyed by token digest and organization.

    Every API request starts with the token lookup; remembering a positive answer briefly
    saves that query on busy clients. A revoked token or a changed role takes effect within
    `seconds` (0 turns the cache off). Only digests are kept, never tokens.
    """

    def __init__(self, seconds: float, size: int = 10_000) -> None:
        self.seconds = seconds
        self.size = size
        self._entries: dict[tuple[str, str], tuple[float, Caller]] = {}

    def get(self, digest: str, org_id: str) -> Caller | None:
        entry = self._entries.get((digest, org_id))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def forget(self, org_id: str, user_id: int) -> None:
        """Drop what is remembered of a person in an organization they were just removed
        from, so that this process refuses their tokens there from the next request on."""
        stale = [
            k
            for k, (_, c) in list(self._entries.items())
            if k[1] == org_id and c.user_id == user_id
        ]
        for key in stale:
            self._entries.pop(key, None)

    def put(self, digest: str, caller: Caller) -> None:
        if self.seconds <= 0:
            return
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[(digest, caller.org_id)] = (time.monotonic() + self.seconds, caller)


def caller_in(uow: UnitOfWork, token: str, org_id: str, cache: CallerCache | None = None) -> Caller:
    """The member a token speaks for inside `org_id`, in one query on the common path."""
    digest = hash_token(token)
    cached = cache.get(digest, org_id) if cache is not None else None
    if cached is not None:
        return cached
    row = access.membership_of(uow.session, digest, org_id)
    if row is None:
        user_for_token(uow, token)
        raise PermissionDenied("You don't have permission to access this organization.")
    caller = Caller(user_id=row.user_id, org_id=org_id, role=Role(row.role))
    if cache is not None:
        cache.put(digest, caller)
    return caller
